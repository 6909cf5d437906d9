import type { DomainEventOf } from '@meridian/domain-events';
import type { NotificationDraft } from './notification';

type TaskStatus = 'TODO' | 'IN_PROGRESS' | 'DONE';

const STATUS_LABELS: Record<TaskStatus, string> = { TODO: 'To do', IN_PROGRESS: 'In progress', DONE: 'Done' };

/**
 * The people to tell: each at most once, never the one who acted (they know), nobody twice
 * when the creator is also the assignee.
 */
export function recipients(candidates: readonly (string | null | undefined)[], actorId: string | null): string[] {
  const unique = new Set<string>();
  for (const candidate of candidates) {
    if (candidate && candidate !== actorId) unique.add(candidate);
  }
  return [...unique];
}

/** task.assigned: the new assignee (not when unassigned, not when they assigned themselves). */
export function assignedNotifications(event: DomainEventOf<'task.assigned'>): NotificationDraft[] {
  const { taskId, title, assigneeId, actorId } = event.payload;
  return recipients([assigneeId], actorId).map((recipientId) => ({
    recipientId,
    kind: 'TASK_ASSIGNED',
    title: `You were assigned "${title}"`,
    body: `"${title}" is now assigned to you.`,
    taskId,
  }));
}

/** task.updated with a status change: the creator and the assignee. Other field changes notify nobody. */
export function statusChangedNotifications(event: DomainEventOf<'task.updated'>): NotificationDraft[] {
  const { taskId, title, createdById, assigneeId, actorId, changedFields, previousStatus, newStatus } = event.payload;
  if (!changedFields.includes('status') || previousStatus === newStatus) return [];
  return recipients([createdById, assigneeId], actorId).map((recipientId) => ({
    recipientId,
    kind: 'TASK_STATUS_CHANGED',
    title: `"${title}" is now ${STATUS_LABELS[newStatus]}`,
    body: `Status changed from ${STATUS_LABELS[previousStatus]} to ${STATUS_LABELS[newStatus]}.`,
    taskId,
  }));
}

/** task.comment-added: the creator and the assignee, with the start of the comment. */
export function commentNotifications(event: DomainEventOf<'task.comment-added'>): NotificationDraft[] {
  const { taskId, title, createdById, assigneeId, actorId, excerpt } = event.payload;
  return recipients([createdById, assigneeId], actorId).map((recipientId) => ({
    recipientId,
    kind: 'TASK_COMMENTED',
    title: `New comment on "${title}"`,
    body: excerpt,
    taskId,
  }));
}

/** A reminder for a task due soon: its assignee, or its creator when nobody is assigned. */
export function dueSoonNotification(task: { id: string; title: string; dueAt: Date; assigneeId: string | null; createdById: string }): NotificationDraft {
  return {
    recipientId: task.assigneeId ?? task.createdById,
    kind: 'TASK_DUE_SOON',
    title: `"${task.title}" is due soon`,
    body: `"${task.title}" is due at ${task.dueAt.toISOString()}.`,
    taskId: task.id,
    dueAt: task.dueAt,
  };
}
