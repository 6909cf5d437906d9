import type { ApolloCache, Reference } from '@apollo/client';
import {
  NotificationItemFragmentDoc,
  TaskCardFragmentDoc,
  DashboardStatsDocument,
  type NotificationReceivedSubscription,
  type StatsRangePreset,
  type StatsUpdatedSubscription,
  type TaskCardFragment,
  type TaskChangedSubscription,
  type TaskFilter,
} from '../generated/graphql';

type TaskChange = TaskChangedSubscription['taskChanged'];
type NotificationDelivery = NotificationReceivedSubscription['notificationReceived'];
interface EdgeInStore {
  __typename?: string;
  node: Reference;
}
interface ConnectionInStore {
  edges?: readonly EdgeInStore[];
}

/** Does `task` belong in a board list queried with `filter` (the same rules as Query.tasks)? */
export function taskMatchesFilter(task: TaskCardFragment, filter: TaskFilter | null | undefined): boolean {
  if (!filter) return true;
  if (filter.status && task.status !== filter.status) return false;
  if (filter.assigneeId && task.assignee?.id !== filter.assigneeId) return false;
  if (filter.projectId && task.project?.id !== filter.projectId) return false;
  const search = filter.search?.trim().toLowerCase();
  if (search && !task.title.toLowerCase().includes(search)) return false;
  return true;
}

/** The arguments Apollo encoded into a store field name such as `tasks({"filter":{...},"first":100})`. */
export function argumentsOfStoreFieldName(storeFieldName: string, fieldName: string): Record<string, unknown> {
  const rest = storeFieldName.slice(fieldName.length);
  const json = rest.startsWith('(') && rest.endsWith(')') ? rest.slice(1, -1) : rest.startsWith(':') ? rest.slice(1) : '';
  if (!json) return {};
  try {
    return JSON.parse(json) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/**
 * Merges one `taskChanged` event into the cache. The task itself is normalised by id, so
 * every card showing it updates and a repeated event changes nothing; then every cached
 * `tasks(filter)` list gains the task when it now matches its filter and loses it when it no
 * longer does (an assignment or a status change can move it in or out). DELETED evicts it.
 */
export function applyTaskChange(cache: ApolloCache, change: Pick<TaskChange, 'kind' | 'taskId' | 'task'>): void {
  const task = change.task;
  const taskId = cache.identify({ __typename: 'Task', id: change.taskId });
  if (change.kind === 'DELETED' || !task) {
    cache.modify({
      id: 'ROOT_QUERY',
      fields: {
        tasks(value, { readField }) {
          const existing = value as ConnectionInStore | null;
          if (!existing?.edges) return value;
          return { ...existing, edges: existing.edges.filter((edge) => readField('id', edge.node) !== change.taskId) } as typeof value;
        },
      },
    });
    if (taskId) cache.evict({ id: taskId });
    cache.gc();
    return;
  }
  const ref = cache.writeFragment({ fragment: TaskCardFragmentDoc, fragmentName: 'TaskCard', data: task });
  if (!ref) return;
  cache.modify({
    id: 'ROOT_QUERY',
    fields: {
      tasks(value, { storeFieldName, fieldName, readField }) {
        const existing = value as ConnectionInStore | null;
        if (!existing?.edges) return value;
        const args = argumentsOfStoreFieldName(storeFieldName, fieldName);
        const matches = taskMatchesFilter(task, args.filter as TaskFilter | undefined);
        const present = existing.edges.some((edge) => readField('id', edge.node) === task.id);
        if (matches && !present) {
          // Lists are in creation order and ids are ULIDs: insert by id.
          const edges = [...existing.edges, { __typename: 'TaskEdge', node: ref }];
          edges.sort((a, b) => String(readField('id', a.node)).localeCompare(String(readField('id', b.node))));
          return { ...existing, edges } as typeof value;
        }
        if (!matches && present) {
          return { ...existing, edges: existing.edges.filter((edge) => readField('id', edge.node) !== task.id) } as typeof value;
        }
        return value;
      },
    },
  });
}

/**
 * Merges one `notificationReceived` delivery: the notification goes first in the viewer's
 * cached lists and the unread count becomes the one the server sent. A notification the
 * cache already has (a replay after resubscribing, or one the list query returned) changes
 * nothing, so the count is never bumped twice.
 */
export function applyNotificationDelivery(cache: ApolloCache, viewerId: string, delivery: NotificationDelivery): void {
  const notification = delivery.notification;
  const notificationId = cache.identify({ __typename: 'Notification', id: notification.id });
  const known = notificationId !== undefined && cache.readFragment({ id: notificationId, fragment: NotificationItemFragmentDoc, fragmentName: 'NotificationItem' }) !== null;
  if (known) return;
  const ref = cache.writeFragment({ fragment: NotificationItemFragmentDoc, fragmentName: 'NotificationItem', data: notification });
  const userId = cache.identify({ __typename: 'User', id: viewerId });
  if (!ref || !userId) return;
  cache.modify({
    id: userId,
    fields: {
      unreadNotificationCount: () => delivery.unreadCount,
      notifications(value, { storeFieldName, fieldName, readField }) {
        const existing = value as ConnectionInStore | null;
        if (!existing?.edges) return value;
        const args = argumentsOfStoreFieldName(storeFieldName, fieldName);
        if (args.unreadOnly === true && notification.readAt) return value;
        if (existing.edges.some((edge) => readField('id', edge.node) === notification.id)) return value;
        return { ...existing, edges: [{ __typename: 'NotificationEdge', node: ref }, ...existing.edges] } as typeof value;
      },
    },
  });
}

/** After markNotificationRead: one fewer unread, unless it was read already. */
export function applyNotificationRead(cache: ApolloCache, viewerId: string, notification: { id: string; readAt: string | null }, wasUnread: boolean): void {
  const userId = cache.identify({ __typename: 'User', id: viewerId });
  if (!userId) return;
  cache.modify({
    id: userId,
    fields: {
      unreadNotificationCount: (count) => (wasUnread && typeof count === 'number' ? Math.max(0, count - 1) : count),
    },
  });
}

/** After markAllNotificationsRead: everything cached is read and the count is zero. */
export function applyAllNotificationsRead(cache: ApolloCache, viewerId: string, readAt: string): void {
  const userId = cache.identify({ __typename: 'User', id: viewerId });
  if (!userId) return;
  const store = cache.extract() as unknown as Record<string, { __typename?: string; readAt?: string | null }>;
  for (const [id, entity] of Object.entries(store)) {
    if (entity.__typename === 'Notification' && !entity.readAt) {
      cache.modify({ id, fields: { readAt: () => readAt } });
    }
  }
  cache.modify({ id: userId, fields: { unreadNotificationCount: () => 0 } });
}

/** A `statsUpdated` payload replaces the cached dashboardStats(preset) (it has no id to merge by). */
export function applyStatsUpdate(cache: ApolloCache, preset: StatsRangePreset, stats: StatsUpdatedSubscription['statsUpdated']): void {
  cache.writeQuery({ query: DashboardStatsDocument, variables: { preset }, data: { dashboardStats: stats } });
}
