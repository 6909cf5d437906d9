import { requireSignedIn, streamEvents } from '@meridian/service-kit';
import type { DomainEvent } from '@meridian/domain-events';
import type { SubscriptionResolvers, TaskChangeKind } from '../generated/resolvers-types';
import type { TaskRow } from '../data/taskRepository';
import type { Context } from '../context';

const TASK_EVENT_KINDS = {
  'task.created': 'CREATED',
  'task.updated': 'UPDATED',
  'task.assigned': 'ASSIGNED',
  'task.comment-added': 'COMMENTED',
  'task.deleted': 'DELETED',
} as const satisfies Record<string, TaskChangeKind>;

type TaskEventType = keyof typeof TASK_EVENT_KINDS;
type TaskEvent = Extract<DomainEvent, { type: TaskEventType }>;

/** The subscription payload: the event, with the task read when it is delivered. */
export interface TaskChangePayload {
  cursor: string;
  kind: TaskChangeKind;
  taskId: string;
  task: TaskRow | null;
  actor: { __typename: 'User'; id: string };
  occurredAt: string;
}

export const Subscription: SubscriptionResolvers = {
  taskChanged: {
    subscribe: (_parent, { projectId, after }, { viewer, bus }) => {
      // Every signed-in user may read every task (shared workspace), so the per-event check is sign-in.
      requireSignedIn(viewer);
      return streamEvents(bus, {
        types: Object.keys(TASK_EVENT_KINDS) as TaskEventType[],
        after,
        filter: (event) => !projectId || event.payload.projectId === projectId,
      });
    },
    resolve: async (event: TaskEvent, _args: unknown, { loadTaskForEvent }: Context): Promise<TaskChangePayload> => ({
      cursor: event.id,
      kind: TASK_EVENT_KINDS[event.type],
      taskId: event.aggregateId,
      task: event.type === 'task.deleted' ? null : await loadTaskForEvent(event.id, event.aggregateId),
      actor: { __typename: 'User', id: event.payload.actorId },
      occurredAt: event.occurredAt,
    }),
  },
};
