import { createDomainEvent } from '@meridian/domain-events';
import { applyEvent, type AnalyticsEvent, type TaskFact } from './taskFacts';

const ALICE = 'alice';
const BOB = 'bob';
const TASK = 'task-1';

const snapshot = { taskId: TASK, projectId: null, title: 'Write it', priority: 'MEDIUM' as const, dueAt: null, createdById: ALICE };

function created(at: string, extra: Partial<{ status: 'TODO' | 'IN_PROGRESS' | 'DONE'; assigneeId: string | null; actorId: string }> = {}) {
  return createDomainEvent('task.created', {
    occurredAt: new Date(at),
    payload: { ...snapshot, status: extra.status ?? 'TODO', assigneeId: extra.assigneeId ?? null, actorId: extra.actorId ?? ALICE },
  });
}

function moved(at: string, previousStatus: 'TODO' | 'IN_PROGRESS' | 'DONE', newStatus: 'TODO' | 'IN_PROGRESS' | 'DONE', actorId = ALICE, assigneeId: string | null = BOB) {
  return createDomainEvent('task.updated', {
    occurredAt: new Date(at),
    payload: { ...snapshot, assigneeId, actorId, changedFields: ['status'], previousStatus, newStatus },
  });
}

/** Folds events like the handler does, collecting the counters. */
function fold(events: AnalyticsEvent[], start: TaskFact | null = null) {
  let fact = start;
  const created: string[] = [];
  const completed: string[] = [];
  const active: string[] = [];
  for (const event of events) {
    const effects = applyEvent(fact, event);
    if (effects.fact) fact = effects.fact;
    if (effects.created) created.push(`${effects.created.day} ${effects.created.userId}`);
    if (effects.completed) completed.push(`${effects.completed.day} ${effects.completed.userId}`);
    if (effects.active) active.push(`${effects.active.day} ${effects.active.userId}`);
  }
  return { fact, created, completed, active };
}

describe('applyEvent', () => {
  it('counts a creation on the UTC day of occurredAt, with the creator as active', () => {
    // 23:30 at UTC-5 is already the next UTC day.
    const result = fold([created('2026-03-01T23:30:00-05:00')]);
    expect(result.created).toEqual(['2026-03-02 alice']);
    expect(result.completed).toEqual([]);
    expect(result.active).toEqual(['2026-03-02 alice']);
    expect(result.fact).toMatchObject({ status: 'TODO', createdAt: new Date('2026-03-02T04:30:00Z'), completions: 0 });
  });

  it('credits a completion to the assignee, on the day it happened, and measures from creation', () => {
    const result = fold([created('2026-03-01T10:00:00Z', { assigneeId: BOB }), moved('2026-03-02T12:00:00Z', 'TODO', 'DONE', ALICE, BOB)]);
    expect(result.completed).toEqual(['2026-03-02 bob']);
    expect(result.fact).toMatchObject({ status: 'DONE', completedAt: new Date('2026-03-02T12:00:00Z'), completedById: BOB, completions: 1 });
  });

  it('credits an unassigned task to whoever completed it', () => {
    const result = fold([created('2026-03-01T10:00:00Z'), moved('2026-03-01T11:00:00Z', 'TODO', 'DONE', ALICE, null)]);
    expect(result.completed).toEqual(['2026-03-01 alice']);
  });

  it('counts every move to DONE of a reopened task, and keeps only the final completion for time-to-complete', () => {
    const result = fold([
      created('2026-03-01T10:00:00Z', { assigneeId: BOB }),
      moved('2026-03-02T10:00:00Z', 'TODO', 'DONE'),
      moved('2026-03-03T10:00:00Z', 'DONE', 'TODO'),
    ]);
    expect(result.completed).toEqual(['2026-03-02 bob']);
    // Reopened: not complete, so it has no completion time until it is done again.
    expect(result.fact).toMatchObject({ status: 'TODO', completedAt: null, completedById: null, completions: 1 });

    const again = fold([moved('2026-03-05T10:00:00Z', 'TODO', 'DONE')], result.fact);
    expect(again.completed).toEqual(['2026-03-05 bob']);
    expect(again.fact).toMatchObject({ status: 'DONE', completedAt: new Date('2026-03-05T10:00:00Z'), completions: 2 });
  });

  it('does not count a status change that is not a move to DONE, nor an edit of a done task', () => {
    const result = fold([
      created('2026-03-01T10:00:00Z'),
      moved('2026-03-01T11:00:00Z', 'TODO', 'IN_PROGRESS'),
      moved('2026-03-01T12:00:00Z', 'IN_PROGRESS', 'DONE'),
      createDomainEvent('task.updated', {
        occurredAt: new Date('2026-03-01T13:00:00Z'),
        payload: { ...snapshot, title: 'Renamed', assigneeId: BOB, actorId: BOB, changedFields: ['title'], previousStatus: 'DONE', newStatus: 'DONE' },
      }),
    ]);
    expect(result.completed).toEqual(['2026-03-01 bob']);
    expect(result.fact).toMatchObject({ status: 'DONE', completedAt: new Date('2026-03-01T12:00:00Z'), completions: 1 });
  });

  it('takes a deleted task out of the open ones and ignores later stragglers', () => {
    const deleted = createDomainEvent('task.deleted', {
      occurredAt: new Date('2026-03-02T10:00:00Z'),
      payload: { taskId: TASK, projectId: null, title: 'Write it', status: 'IN_PROGRESS', createdById: ALICE, assigneeId: BOB, actorId: BOB },
    });
    const result = fold([created('2026-03-01T10:00:00Z'), moved('2026-03-01T11:00:00Z', 'TODO', 'IN_PROGRESS'), deleted]);
    expect(result.fact).toMatchObject({ status: 'IN_PROGRESS', deletedAt: new Date('2026-03-02T10:00:00Z') });
    expect(result.created).toHaveLength(1);

    const straggler = applyEvent(result.fact, moved('2026-03-03T10:00:00Z', 'IN_PROGRESS', 'DONE'));
    expect(straggler.fact).toBeNull();
    expect(straggler.completed).toBeNull();
  });

  it('does not count the same task created twice', () => {
    const first = applyEvent(null, created('2026-03-01T10:00:00Z'));
    const second = applyEvent(first.fact, created('2026-03-01T10:00:00Z'));
    expect(second.created).toBeNull();
    expect(second.fact).toBeNull();
  });

  it('tracks a task whose creation it never saw, and adds the creation if it arrives late', () => {
    const orphan = fold([moved('2026-03-02T10:00:00Z', 'TODO', 'DONE')]);
    expect(orphan.completed).toEqual(['2026-03-02 bob']);
    expect(orphan.created).toEqual([]);
    expect(orphan.fact).toMatchObject({ status: 'DONE', createdAt: null, createdById: ALICE, completions: 1 });

    const late = fold([created('2026-03-01T10:00:00Z')], orphan.fact);
    expect(late.created).toEqual(['2026-03-01 alice']);
    // The newer status survives; the creation time makes time-to-complete measurable.
    expect(late.fact).toMatchObject({ status: 'DONE', createdAt: new Date('2026-03-01T10:00:00Z'), completedAt: new Date('2026-03-02T10:00:00Z') });
  });

  it('handles assignment and deletion of unknown tasks without inventing counts', () => {
    const assigned = applyEvent(
      null,
      createDomainEvent('task.assigned', {
        occurredAt: new Date('2026-03-02T10:00:00Z'),
        payload: { taskId: TASK, projectId: null, title: 'Write it', assigneeId: BOB, previousAssigneeId: null, actorId: ALICE },
      }),
    );
    expect(assigned.fact).toMatchObject({ status: null, assigneeId: BOB, createdAt: null });
    expect(assigned.created).toBeNull();

    const deleted = applyEvent(
      null,
      createDomainEvent('task.deleted', {
        occurredAt: new Date('2026-03-02T10:00:00Z'),
        payload: { taskId: 'other', projectId: null, title: 'x', status: 'TODO', createdById: ALICE, assigneeId: null, actorId: ALICE },
      }),
    );
    expect(deleted.fact).toMatchObject({ taskId: 'other', status: 'TODO', deletedAt: new Date('2026-03-02T10:00:00Z') });
    expect(deleted.completed).toBeNull();
  });

  it('makes the user of sign-ins, sign-ups and comments active, and nothing else', () => {
    const events = [
      createDomainEvent('auth.signed-in', { occurredAt: new Date('2026-03-01T01:00:00Z'), payload: { userId: 'dave', sessionId: 's1' } }),
      createDomainEvent('auth.user-registered', {
        occurredAt: new Date('2026-03-01T02:00:00Z'),
        payload: { userId: 'erin', email: 'erin@example.com', displayName: 'Erin' },
      }),
      createDomainEvent('task.comment-added', {
        occurredAt: new Date('2026-03-01T03:00:00Z'),
        payload: { commentId: 'c1', taskId: TASK, projectId: null, title: 'Write it', createdById: ALICE, assigneeId: null, actorId: 'frank', excerpt: 'hi' },
      }),
    ];
    const result = fold(events);
    expect(result.active).toEqual(['2026-03-01 dave', '2026-03-01 erin', '2026-03-01 frank']);
    expect(result.fact).toBeNull();
    expect(result.created).toEqual([]);
  });
});
