import { useEffect } from 'react';
import { NotificationReceivedDocument, NotificationsDocument, StatsUpdatedDocument, TaskByIdDocument, TaskChangedDocument } from '../generated/graphql';
import { applyNotificationDelivery, applyStatsUpdate, applyTaskChange, describeError, SessionExpiredError } from '../lib';
import { STATS_PRESET } from './AnalyticsPage';
import { useDashboard } from './context';

/**
 * The three live streams, open while signed in, merged into the Apollo cache by id: every
 * page showing a task, a notification or the statistics updates without a reload. The
 * results bypass Apollo's own cache writes ('no-cache') so that the merge functions are the
 * only writer and can tell a new notification from one the cache already has.
 *
 * An event that arrives with errors (a field from another subgraph could not be resolved) is
 * not merged as it is, which would blank that field: the task is read again instead, or the
 * notification list is refetched.
 */
export function LiveUpdates() {
  const { client, viewerId, notify } = useDashboard();

  useEffect(() => {
    const apollo = client.apollo;
    const onError = (error: unknown) => {
      // An expired session signs out (the app shows why); anything else is worth a word.
      if (!(error instanceof SessionExpiredError)) notify(`Live updates stopped: ${describeError(error)}`, 'error');
    };
    const rereadTask = (taskId: string) => {
      apollo.query({ query: TaskByIdDocument, variables: { id: taskId }, fetchPolicy: 'no-cache' }).then(
        ({ data }) => {
          if (data) applyTaskChange(apollo.cache, { kind: data.task ? 'UPDATED' : 'DELETED', taskId, task: data.task ?? null });
        },
        () => undefined, // the next event or a reload shows it
      );
    };
    const streams = [
      apollo.subscribe({ query: TaskChangedDocument, fetchPolicy: 'no-cache', errorPolicy: 'all' }).subscribe({
        next: (result) => {
          const change = result.data?.taskChanged;
          if (!change) return;
          if (result.error) rereadTask(change.taskId);
          else applyTaskChange(apollo.cache, change);
        },
        error: onError,
      }),
      apollo.subscribe({ query: NotificationReceivedDocument, fetchPolicy: 'no-cache', errorPolicy: 'all' }).subscribe({
        next: (result) => {
          const delivery = result.data?.notificationReceived;
          if (delivery && !result.error) applyNotificationDelivery(apollo.cache, viewerId, delivery);
          else if (result.error) void apollo.refetchQueries({ include: [NotificationsDocument] }).catch(() => undefined);
        },
        error: onError,
      }),
      apollo.subscribe({ query: StatsUpdatedDocument, variables: { preset: STATS_PRESET }, fetchPolicy: 'no-cache', errorPolicy: 'all' }).subscribe({
        next: (result) => {
          // Partial statistics would draw wrong charts; the next update replaces them.
          if (result.data && !result.error) applyStatsUpdate(apollo.cache, STATS_PRESET, result.data.statsUpdated);
        },
        error: onError,
      }),
    ];
    return () => {
      for (const stream of streams) stream.unsubscribe();
    };
  }, [client, viewerId, notify]);

  return null;
}
