/**
 * Events the task subgraph publishes. Each one is written to the outbox table in the same
 * transaction as the change it describes (transactional outbox), so an event exists exactly
 * when its change committed; a relay publishes outbox rows to the bus afterwards.
 *
 * The platform catalogue (@meridian/domain-events) and outbox helper (@meridian/event-bridge
 * `writeOutbox`) are not published yet: the envelopes below follow event-bridge's EventEnvelope
 * shape, and `recordTaskEvents` is the one function to switch over when they are.
 */
import type { Prisma } from './generated/prisma/client';
import type { TaskPriority, TaskRecord, TaskStatus } from './domain/task';
import { newId } from './domain/ids';

export const TASK_EVENT_SOURCE = 'task';

/**
 * What consumers learn about a task. The description is left out on purpose: it can be
 * 10,000 characters, and whoever needs it can ask the subgraph.
 */
export interface TaskSnapshot {
  id: string;
  title: string;
  status: TaskStatus;
  priority: TaskPriority;
  dueAt: string | null;
  assigneeId: string | null;
  createdById: string;
  projectId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface TaskCreatedPayload {
  task: TaskSnapshot;
  actorId: string;
}

export interface TaskUpdatedPayload {
  task: TaskSnapshot;
  /** Names of the fields whose values changed (title, description, status, priority, dueAt). */
  changedFields: string[];
  /** Lets read models count status transitions without keeping their own copy of every task. */
  previousStatus: TaskStatus;
  actorId: string;
}

export interface TaskAssignedPayload {
  task: TaskSnapshot;
  /** Null when the task was unassigned. */
  assigneeId: string | null;
  previousAssigneeId: string | null;
  actorId: string;
}

export interface TaskDeletedPayload {
  /** The task as it was just before deletion. */
  task: TaskSnapshot;
  actorId: string;
}

interface Envelope<TType extends string, TPayload> {
  /** ULID: the outbox is relayed in id order. */
  id: string;
  type: TType;
  version: number;
  source: typeof TASK_EVENT_SOURCE;
  /** The task id: events of one task are delivered in order. */
  aggregateId: string;
  occurredAt: string;
  traceparent?: string;
  payload: TPayload;
}

export type TaskEvent =
  | Envelope<'task.created', TaskCreatedPayload>
  | Envelope<'task.updated', TaskUpdatedPayload>
  | Envelope<'task.assigned', TaskAssignedPayload>
  | Envelope<'task.deleted', TaskDeletedPayload>;

export type TaskEventType = TaskEvent['type'];

export function toTaskSnapshot(task: TaskRecord): TaskSnapshot {
  return {
    id: task.id,
    title: task.title,
    status: task.status,
    priority: task.priority,
    dueAt: task.dueAt?.toISOString() ?? null,
    assigneeId: task.assigneeId,
    createdById: task.createdById,
    projectId: task.projectId,
    createdAt: task.createdAt.toISOString(),
    updatedAt: task.updatedAt.toISOString(),
  };
}

function envelope<E extends TaskEvent>(type: E['type'], aggregateId: string, payload: E['payload']): E {
  return {
    id: newId(),
    type,
    version: 1,
    source: TASK_EVENT_SOURCE,
    aggregateId,
    occurredAt: new Date().toISOString(),
    payload,
  } as E;
}

export function taskCreatedEvent(task: TaskRecord, actorId: string): TaskEvent {
  return envelope('task.created', task.id, { task: toTaskSnapshot(task), actorId });
}

export function taskUpdatedEvent(task: TaskRecord, previous: TaskRecord, changedFields: string[], actorId: string): TaskEvent {
  return envelope('task.updated', task.id, {
    task: toTaskSnapshot(task),
    changedFields,
    previousStatus: previous.status,
    actorId,
  });
}

export function taskAssignedEvent(task: TaskRecord, previousAssigneeId: string | null, actorId: string): TaskEvent {
  return envelope('task.assigned', task.id, {
    task: toTaskSnapshot(task),
    assigneeId: task.assigneeId,
    previousAssigneeId,
    actorId,
  });
}

export function taskDeletedEvent(task: TaskRecord, actorId: string): TaskEvent {
  return envelope('task.deleted', task.id, { task: toTaskSnapshot(task), actorId });
}

/** Appends events to the outbox; `tx` must be the transaction that makes the change. */
export async function recordTaskEvents(tx: Pick<Prisma.TransactionClient, 'outboxEvent'>, events: readonly TaskEvent[]): Promise<void> {
  if (events.length === 0) return;
  await tx.outboxEvent.createMany({
    data: events.map((event) => ({
      id: event.id,
      type: event.type,
      version: event.version,
      source: event.source,
      aggregateId: event.aggregateId,
      occurredAt: new Date(event.occurredAt),
      traceparent: event.traceparent ?? null,
      payload: event.payload as unknown as Prisma.InputJsonValue,
    })),
  });
}
