import { useEffect } from 'react';
import { NotificationReceivedDocument, StatsUpdatedDocument, TaskChangedDocument } from '../generated/graphql';
import { applyNotificationDelivery, applyStatsUpdate, applyTaskChange, describeError, SessionExpiredError } from '../lib';
import { STATS_PRESET } from './AnalyticsPage';
import { useDashboard } from './context';

/**
 * The three live streams, open while signed in, merged into the Apollo cache by id: every
 * page showing a task, a notification or the statistics updates without a reload. The
 * results bypass Apollo's own cache writes ('no-cache') so that the merge functions are the
 * only writer and can tell a new notification from one the cache already has.
 */
export function LiveUpdates() {
  const { client, viewerId, notify } = useDashboard();

  useEffect(() => {
    const apollo = client.apollo;
    const onError = (error: unknown) => {
      // An expired session signs out (the app shows why); anything else is worth a word.
      if (!(error instanceof SessionExpiredError)) notify(`Live updates stopped: ${describeError(error)}`, 'error');
    };
    const streams = [
      apollo.subscribe({ query: TaskChangedDocument, fetchPolicy: 'no-cache' }).subscribe({
        next: (result) => {
          if (result.data) applyTaskChange(apollo.cache, result.data.taskChanged);
          if (result.error) onError(result.error);
        },
        error: onError,
      }),
      apollo.subscribe({ query: NotificationReceivedDocument, fetchPolicy: 'no-cache' }).subscribe({
        next: (result) => {
          if (result.data) applyNotificationDelivery(apollo.cache, viewerId, result.data.notificationReceived);
          if (result.error) onError(result.error);
        },
        error: onError,
      }),
      apollo.subscribe({ query: StatsUpdatedDocument, variables: { preset: STATS_PRESET }, fetchPolicy: 'no-cache' }).subscribe({
        next: (result) => {
          if (result.data) applyStatsUpdate(apollo.cache, STATS_PRESET, result.data.statsUpdated);
          if (result.error) onError(result.error);
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
