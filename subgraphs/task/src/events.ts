/**
 * Events the task subgraph publishes (catalogue: @meridian/domain-events). Each one is written
 * to the outbox table in the same transaction as the change it describes (transactional
 * outbox), so an event exists exactly when its change committed; the outbox relay publishes
 * the rows to the bus afterwards. The task subgraph consumes no events yet.
 */
import { createDomainEvent, type DomainEventOf } from '@meridian/domain-events';
import { writeOutbox, type OutboxWriter } from '@meridian/event-bridge';
import { commentExcerpt, type CommentRecord } from './domain/comment';
import type { TaskChanges, TaskRecord } from './domain/task';

export type TaskEvent = DomainEventOf<'task.created' | 'task.updated' | 'task.assigned' | 'task.deleted' | 'task.comment-added'>;
export type TaskEventType = TaskEvent['type'];

/** The task's current state, as every task event but task.deleted carries it. */
function snapshot(task: TaskRecord, actorId: string) {
  return {
    taskId: task.id,
    projectId: task.projectId,
    title: task.title,
    priority: task.priority,
    dueAt: task.dueAt?.toISOString() ?? null,
    createdById: task.createdById,
    assigneeId: task.assigneeId,
    actorId,
  };
}

export function taskCreatedEvent(task: TaskRecord, actorId: string): TaskEvent {
  return createDomainEvent('task.created', { payload: { ...snapshot(task, actorId), status: task.status } });
}

export function taskUpdatedEvent(
  task: TaskRecord,
  previous: TaskRecord,
  changedFields: readonly (keyof TaskChanges)[],
  actorId: string,
): TaskEvent {
  return createDomainEvent('task.updated', {
    payload: { ...snapshot(task, actorId), changedFields: [...changedFields], previousStatus: previous.status, newStatus: task.status },
  });
}

export function taskAssignedEvent(task: TaskRecord, previousAssigneeId: string | null, actorId: string): TaskEvent {
  return createDomainEvent('task.assigned', {
    payload: {
      taskId: task.id,
      projectId: task.projectId,
      title: task.title,
      assigneeId: task.assigneeId,
      previousAssigneeId,
      actorId,
    },
  });
}

/** `task` is the task as it was just before deletion. */
export function taskDeletedEvent(task: TaskRecord, actorId: string): TaskEvent {
  return createDomainEvent('task.deleted', {
    payload: {
      taskId: task.id,
      projectId: task.projectId,
      title: task.title,
      status: task.status,
      createdById: task.createdById,
      assigneeId: task.assigneeId,
      actorId,
    },
  });
}

/** Carries the task's people so consumers (notifications) need no lookup; the actor is the author. */
export function taskCommentAddedEvent(task: TaskRecord, comment: CommentRecord): TaskEvent {
  return createDomainEvent('task.comment-added', {
    payload: {
      commentId: comment.id,
      taskId: task.id,
      projectId: task.projectId,
      title: task.title,
      createdById: task.createdById,
      assigneeId: task.assigneeId,
      actorId: comment.authorId,
      excerpt: commentExcerpt(comment.body),
    },
  });
}

/** Stages events in the outbox; `tx` must be the transaction that makes the change. */
export function recordTaskEvents(tx: OutboxWriter, events: readonly TaskEvent[]): Promise<void> {
  return writeOutbox(tx, events);
}
