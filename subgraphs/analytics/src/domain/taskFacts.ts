/**
 * The aggregation rules, as pure functions: how one event changes what analytics knows about a
 * task and which counters it moves. src/data applies the result in the event's inbox
 * transaction, so each event counts exactly once even though delivery is at least once.
 *
 * Decisions (see the README):
 * - Completions count every move to DONE, on the UTC day it happened: a task completed,
 *   reopened and completed again counts twice, once on each day. Reopening does not take the
 *   first completion back (it did happen on that day).
 * - A completion is credited to the task's assignee at that moment, or to whoever moved it to
 *   DONE when the task was unassigned.
 * - Time to complete is measured from creation to the latest completion, and only for tasks
 *   that are DONE: reopening clears it until the task is completed again.
 * - Open-by-status follows the current status; a deleted task leaves it (and keeps its place
 *   in the historical created/completed counts and, if DONE, in time-to-complete).
 * - Events for a task whose task.created was never seen do not crash: the task is tracked from
 *   what the event carries, and a late task.created only adds what was missing (the creation).
 */
import type { DomainEventOf } from '@meridian/domain-events';
import { utcDayOf, type Day } from './days';

export type TaskStatus = 'TODO' | 'IN_PROGRESS' | 'DONE';
export const OPEN_STATUSES: readonly TaskStatus[] = ['TODO', 'IN_PROGRESS'];

/** The event types the analytics read models are built from. */
export const ANALYTICS_EVENT_TYPES = [
  'task.created',
  'task.updated',
  'task.assigned',
  'task.deleted',
  'task.comment-added',
  'auth.user-registered',
  'auth.signed-in',
] as const;

export type AnalyticsEventType = (typeof ANALYTICS_EVENT_TYPES)[number];
export type AnalyticsEvent = DomainEventOf<AnalyticsEventType>;

/** What analytics knows about one task. */
export interface TaskFact {
  taskId: string;
  /** Null until an event carrying the status was seen. */
  status: TaskStatus | null;
  /** Null until task.created was seen. */
  createdAt: Date | null;
  createdById: string | null;
  assigneeId: string | null;
  /** The latest move to DONE while the task is DONE; null otherwise. */
  completedAt: Date | null;
  completedById: string | null;
  /** Moves to DONE so far. */
  completions: number;
  deletedAt: Date | null;
}

export interface DayUser {
  day: Day;
  userId: string;
}

/** The effect of one event. */
export interface EventEffects {
  /** The task's state after the event, to store; null when no task state changes. */
  fact: TaskFact | null;
  /** A task was created on `day` by `userId`. */
  created: DayUser | null;
  /** A task moved to DONE on `day`, credited to `userId`. */
  completed: DayUser | null;
  /** `userId` acted on `day`. */
  active: DayUser | null;
}

/** The task an event is about, if any (the data layer loads its current fact). */
export function taskIdOf(event: AnalyticsEvent): string | null {
  switch (event.type) {
    case 'task.created':
    case 'task.updated':
    case 'task.assigned':
    case 'task.deleted':
      return event.payload.taskId;
    default:
      return null;
  }
}

/** The user who acted, for active users. */
export function actorOf(event: AnalyticsEvent): string {
  switch (event.type) {
    case 'auth.user-registered':
    case 'auth.signed-in':
      return event.payload.userId;
    default:
      return event.payload.actorId;
  }
}

function emptyFact(taskId: string): TaskFact {
  return {
    taskId,
    status: null,
    createdAt: null,
    createdById: null,
    assigneeId: null,
    completedAt: null,
    completedById: null,
    completions: 0,
    deletedAt: null,
  };
}

/**
 * Folds one event into the task's current fact (null when analytics has never heard of the
 * task). Pure: the same fact and event always give the same effects.
 */
export function applyEvent(current: TaskFact | null, event: AnalyticsEvent): EventEffects {
  const at = new Date(event.occurredAt);
  const day = utcDayOf(at);
  const effects: EventEffects = { fact: null, created: null, completed: null, active: { day, userId: actorOf(event) } };

  switch (event.type) {
    case 'task.created': {
      const p = event.payload;
      // A second creation of the same task (another event id) must not count twice.
      if (current?.createdAt) return effects;
      effects.created = { day, userId: p.createdById };
      if (current) {
        // Later events were seen first: they know the newer status and assignee; add the creation only.
        effects.fact = { ...current, createdAt: at, createdById: p.createdById, status: current.status ?? p.status };
        return effects;
      }
      const fact: TaskFact = { ...emptyFact(p.taskId), status: p.status, createdAt: at, createdById: p.createdById, assigneeId: p.assigneeId };
      if (p.status === 'DONE') {
        const userId = p.assigneeId ?? p.actorId;
        fact.completions = 1;
        fact.completedAt = at;
        fact.completedById = userId;
        effects.completed = { day, userId };
      }
      effects.fact = fact;
      return effects;
    }

    case 'task.updated': {
      const p = event.payload;
      const base = current ?? { ...emptyFact(p.taskId), status: p.previousStatus, createdById: p.createdById };
      // Nothing changes a deleted task (a straggler must not bring it back into open counts).
      if (base.deletedAt) return effects;
      const fact: TaskFact = { ...base, assigneeId: p.assigneeId, createdById: base.createdById ?? p.createdById, status: p.newStatus };
      if (p.previousStatus !== p.newStatus && p.newStatus === 'DONE') {
        const userId = p.assigneeId ?? p.actorId;
        fact.completions = base.completions + 1;
        fact.completedAt = at;
        fact.completedById = userId;
        effects.completed = { day, userId };
      }
      if (fact.status !== 'DONE') {
        // Reopened (or never completed): no completion counts for time-to-complete until the next DONE.
        fact.completedAt = null;
        fact.completedById = null;
      }
      effects.fact = fact;
      return effects;
    }

    case 'task.assigned': {
      const p = event.payload;
      const base = current ?? emptyFact(p.taskId);
      if (base.deletedAt) return effects;
      effects.fact = { ...base, assigneeId: p.assigneeId };
      return effects;
    }

    case 'task.deleted': {
      const p = event.payload;
      if (current?.deletedAt) return effects;
      const base = current ?? { ...emptyFact(p.taskId), createdById: p.createdById, assigneeId: p.assigneeId };
      // The deletion's snapshot is the producer's truth about the final status.
      const status = p.status;
      effects.fact = { ...base, status, deletedAt: at, ...(status === 'DONE' ? {} : { completedAt: null, completedById: null }) };
      return effects;
    }

    default:
      // Comments, sign-ins and sign-ups only make their user active that day.
      return effects;
  }
}
