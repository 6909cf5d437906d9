/**
 * The analytics service booted with startAnalyticsService on port 0, fed real domain events
 * through a real bus (in memory, or Redis Streams under its own prefix), queried over real
 * HTTP with RS256 tokens verified against a local JWKS endpoint. Runs embedded (PGlite) and,
 * when TEST_POSTGRES_URL and TEST_REDIS_URL are set, distributed (PostgreSQL + Redis).
 */
import { randomUUID } from 'node:crypto';
import { createDomainEvent, createPlatformEventBus, type DomainEvent } from '@meridian/domain-events';
import type { EventBus } from '@meridian/event-bridge';
import {
  errorCodes,
  eventually,
  getTestModes,
  graphql,
  openTestDatabase,
  startTestTokenIssuer,
  type GraphQLResponse,
  type OpenTestDatabase,
  type TestTokenIssuer,
} from '@meridian/testing';
import type { Role } from '@meridian/tokens';
import { loadAnalyticsConfig } from '../src/config';
import { startAnalyticsService, type AnalyticsServiceHandle } from '../src/service';

const NOW = new Date('2026-03-10T15:00:00Z');

const ALICE = '01JANALYTICS000000000ALICE';
const BOB = '01JANALYTICS00000000000BOB';
const CAROL = '01JANALYTICS000000000CAROL';
const DAVE = '01JANALYTICS0000000000DAVE';
const ERIN = '01JANALYTICS0000000000ERIN';
const FRANK = '01JANALYTICS000000000FRANK';
const GUS = '01JANALYTICS00000000000GUS';
const ZED = '01JANALYTICS00000000000ZED';
const ADMIN = '01JANALYTICS000000000ADMIN';

type Status = 'TODO' | 'IN_PROGRESS' | 'DONE';

const DASHBOARD = `query($range: StatsRangeInput, $preset: StatsRangePreset, $first: Int) {
  dashboardStats(range: $range, preset: $preset) {
    from to
    totals { tasksCreated tasksCompleted activeUsers openTasks averageCompletionSeconds }
    days { date tasksCreated tasksCompleted activeUsers }
    openTasksByStatus { status count }
    topUsers(first: $first) { user { id } tasksCompleted averageCompletionSeconds }
  }
}`;
const DASHBOARD_PUBLIC = `query($range: StatsRangeInput, $preset: StatsRangePreset) {
  dashboardStats(range: $range, preset: $preset) {
    from to
    totals { tasksCreated tasksCompleted activeUsers openTasks averageCompletionSeconds }
    days { date tasksCreated tasksCompleted activeUsers }
    openTasksByStatus { status count }
  }
}`;
const USER_STATS = `query($reps: [_Any!]!, $range: StatsRangeInput, $preset: StatsRangePreset) {
  _entities(representations: $reps) {
    ... on User { id stats(range: $range, preset: $preset) { tasksCreated tasksCompleted tasksOpenAssigned averageCompletionSeconds days { date tasksCreated tasksCompleted } } }
  }
}`;

/** A range of whole UTC days, both included. */
function days(first: string, last: string) {
  return { from: `${first}T00:00:00Z`, to: `${last}T23:59:59Z` };
}

/** `eventually` with this file's longer deadline: read models catch up through the bus (Redis in distributed mode). */
const settled = <T>(check: () => Promise<T>, timeoutMs = 20_000) => eventually(check, timeoutMs, 50);

describe.each(getTestModes())('analytics subgraph ($name)', (mode) => {
  let tokens: TestTokenIssuer;
  let testDb: OpenTestDatabase | undefined;
  let bus: EventBus<DomainEvent>;
  let service: AnalyticsServiceHandle;
  let url: string;
  /** Ids of every distinct event published, to check what a rebuild applies. */
  const published = new Set<string>();

  function tokenFor(userId: string, roles: Role[] = ['MEMBER']): string {
    return tokens.sign({ userId, roles });
  }

  function gql(query: string, variables: Record<string, unknown> = {}, token?: string): Promise<GraphQLResponse> {
    return graphql(url, query, { variables, ...(token ? { token } : {}) });
  }

  async function ok(query: string, variables: Record<string, unknown>, token: string): Promise<Record<string, any>> {
    const result = await gql(query, variables, token);
    expect(result.errors).toBeUndefined();
    return result.data as Record<string, any>;
  }

  const dashboard = async (range: { from: string; to: string }, token = tokenFor(ADMIN, ['ADMIN']), first = 10) =>
    (await ok(DASHBOARD, { range, first }, token)).dashboardStats;

  async function userStats(userId: string, range: { from: string; to: string }, token = tokenFor(ADMIN, ['ADMIN'])) {
    const data = await ok(USER_STATS, { reps: [{ __typename: 'User', id: userId }], range }, token);
    return data._entities[0].stats;
  }

  async function publish(events: DomainEvent | DomainEvent[]) {
    const list = Array.isArray(events) ? events : [events];
    for (const event of list) published.add(event.id);
    await bus.publish(list);
  }

  // Event builders with explicit occurredAt: the read models bucket by it.
  const snapshot = (taskId: string, createdById: string, assigneeId: string | null, actorId: string) => ({
    taskId,
    projectId: null,
    title: `Task ${taskId}`,
    priority: 'MEDIUM' as const,
    dueAt: null,
    createdById,
    assigneeId,
    actorId,
  });
  const created = (at: string, taskId: string, createdById: string, assigneeId: string | null = null) =>
    createDomainEvent('task.created', { occurredAt: new Date(at), payload: { ...snapshot(taskId, createdById, assigneeId, createdById), status: 'TODO' } });
  const assigned = (at: string, taskId: string, assigneeId: string | null, actorId: string) =>
    createDomainEvent('task.assigned', {
      occurredAt: new Date(at),
      payload: { taskId, projectId: null, title: `Task ${taskId}`, assigneeId, previousAssigneeId: null, actorId },
    });
  const moved = (at: string, taskId: string, createdById: string, assigneeId: string | null, actorId: string, previousStatus: Status, newStatus: Status) =>
    createDomainEvent('task.updated', {
      occurredAt: new Date(at),
      payload: { ...snapshot(taskId, createdById, assigneeId, actorId), changedFields: ['status'], previousStatus, newStatus },
    });
  const deleted = (at: string, taskId: string, createdById: string, assigneeId: string | null, actorId: string, status: Status) =>
    createDomainEvent('task.deleted', {
      occurredAt: new Date(at),
      payload: { taskId, projectId: null, title: `Task ${taskId}`, status, createdById, assigneeId, actorId },
    });
  const commented = (at: string, taskId: string, actorId: string) =>
    createDomainEvent('task.comment-added', {
      occurredAt: new Date(at),
      payload: { commentId: randomUUID(), taskId, projectId: null, title: `Task ${taskId}`, createdById: ALICE, assigneeId: null, actorId, excerpt: 'Looks good' },
    });

  beforeAll(async () => {
    tokens = await startTestTokenIssuer();

    const env: Record<string, string> = {
      ANALYTICS_PORT: '0',
      JWKS_URL: tokens.jwksUrl,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      NODE_ENV: 'test',
      DATA_DIR: ':memory:',
    };
    if (mode.name === 'distributed') {
      // In distributed mode migrations are a deployment step, not a start-up one.
      testDb = await openTestDatabase('analytics', { adminUrl: process.env.TEST_POSTGRES_URL as string });
      await testDb.database.close();
      env.ANALYTICS_DATABASE_URL = testDb.testDatabase.databaseUrl as string;
      bus = createPlatformEventBus({ redisUrl: process.env.TEST_REDIS_URL, streamPrefix: `test:analytics:${randomUUID()}` });
    } else {
      bus = createPlatformEventBus();
    }
    service = await startAnalyticsService({ config: loadAnalyticsConfig(env), bus, now: () => NOW });
    url = `${service.url}/graphql`;
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await bus?.close();
    await tokens?.close();
    await testDb?.close();
  });

  // March 2026, days 1-4: a small team's week, every rule once.
  const MARCH = days('2026-03-01', '2026-03-04');

  describe('read models from events', () => {
    beforeAll(async () => {
      await publish([
        // T1: Alice creates for Bob on day 1; Bob starts it, finishes on day 2 (25 h).
        created('2026-03-01T09:00:00Z', 'T1', ALICE, BOB),
        assigned('2026-03-01T09:00:00Z', 'T1', BOB, ALICE),
        moved('2026-03-01T10:00:00Z', 'T1', ALICE, BOB, BOB, 'TODO', 'IN_PROGRESS'),
        moved('2026-03-02T10:00:00Z', 'T1', ALICE, BOB, BOB, 'IN_PROGRESS', 'DONE'),
        // T2: unassigned, Alice completes it herself on day 3 (48 h).
        created('2026-03-01T11:00:00Z', 'T2', ALICE),
        moved('2026-03-03T11:00:00Z', 'T2', ALICE, null, ALICE, 'TODO', 'DONE'),
        // T3: Bob creates for Carol on day 2 and deletes it, still open, on day 3.
        created('2026-03-02T12:00:00Z', 'T3', BOB, CAROL),
        deleted('2026-03-03T12:00:00Z', 'T3', BOB, CAROL, BOB, 'TODO'),
        // T4: Carol's own open task.
        created('2026-03-03T13:00:00Z', 'T4', CAROL, CAROL),
        // T5: Alice's, done on day 2, reopened on day 3, done again on day 4 (72 h after creation).
        created('2026-03-01T08:00:00Z', 'T5', ALICE, ALICE),
        moved('2026-03-02T08:00:00Z', 'T5', ALICE, ALICE, ALICE, 'TODO', 'DONE'),
        moved('2026-03-03T08:00:00Z', 'T5', ALICE, ALICE, ALICE, 'DONE', 'TODO'),
        moved('2026-03-04T08:00:00Z', 'T5', ALICE, ALICE, ALICE, 'TODO', 'DONE'),
        // Day 4: Dave signs in, Erin signs up, Frank comments.
        createDomainEvent('auth.signed-in', { occurredAt: new Date('2026-03-04T07:00:00Z'), payload: { userId: DAVE, sessionId: 'sess-1' } }),
        createDomainEvent('auth.user-registered', {
          occurredAt: new Date('2026-03-04T07:30:00Z'),
          payload: { userId: ERIN, email: 'erin@example.com', displayName: 'Erin' },
        }),
        commented('2026-03-04T09:00:00Z', 'T4', FRANK),
      ]);
      await settled(async () => expect((await dashboard(MARCH)).days[3]).toMatchObject({ tasksCompleted: 1, activeUsers: 4 }));
    });

    it('counts tasks created and completed and active users per UTC day, with totals that add up', async () => {
      const stats = await dashboard(MARCH);
      expect(stats.from).toBe('2026-03-01T00:00:00.000Z');
      expect(stats.to).toBe('2026-03-05T00:00:00.000Z');
      expect(stats.days).toEqual([
        { date: '2026-03-01', tasksCreated: 3, tasksCompleted: 0, activeUsers: 2 },
        { date: '2026-03-02', tasksCreated: 1, tasksCompleted: 2, activeUsers: 2 },
        { date: '2026-03-03', tasksCreated: 1, tasksCompleted: 1, activeUsers: 3 },
        { date: '2026-03-04', tasksCreated: 0, tasksCompleted: 1, activeUsers: 4 },
      ]);
      // 6 distinct people acted: Alice, Bob, Carol, Dave, Erin, Frank.
      expect(stats.totals).toMatchObject({ tasksCreated: 5, tasksCompleted: 4, activeUsers: 6 });
    });

    it('shows open tasks by status: a deleted open task and reopened-then-done task are not open', async () => {
      const stats = await dashboard(MARCH);
      expect(stats.openTasksByStatus).toEqual([
        { status: 'TODO', count: 1 },
        { status: 'IN_PROGRESS', count: 0 },
      ]);
      expect(stats.totals.openTasks).toBe(1);
    });

    it('averages time to complete over done tasks, to their final completion', async () => {
      const stats = await dashboard(MARCH);
      // T1 25 h, T2 48 h, T5 72 h (its first completion on day 2 does not count).
      expect(stats.totals.averageCompletionSeconds).toBeCloseTo((90_000 + 172_800 + 259_200) / 3, 6);
      // Only day 2: T1 finished then; T5's day-2 completion was undone by the reopen.
      const day2 = await dashboard(days('2026-03-02', '2026-03-02'));
      expect(day2.totals.tasksCompleted).toBe(2);
      expect(day2.totals.averageCompletionSeconds).toBeCloseTo(90_000, 6);
    });

    it('ranks users by throughput (each move to DONE, credited to the assignee) for admins', async () => {
      const stats = await dashboard(MARCH);
      expect(stats.topUsers).toEqual([
        { user: { id: ALICE }, tasksCompleted: 3, averageCompletionSeconds: (172_800 + 259_200) / 2 },
        { user: { id: BOB }, tasksCompleted: 1, averageCompletionSeconds: 90_000 },
      ]);
      expect((await dashboard(MARCH, tokenFor(ADMIN, ['ADMIN']), 1)).topUsers).toHaveLength(1);
    });

    it('gives each user their figures: created, completed, open assigned, average and a day series', async () => {
      expect(await userStats(ALICE, MARCH, tokenFor(ALICE))).toEqual({
        tasksCreated: 3,
        tasksCompleted: 3,
        tasksOpenAssigned: 0,
        averageCompletionSeconds: 216_000,
        days: [
          { date: '2026-03-01', tasksCreated: 3, tasksCompleted: 0 },
          { date: '2026-03-02', tasksCreated: 0, tasksCompleted: 1 },
          { date: '2026-03-03', tasksCreated: 0, tasksCompleted: 1 },
          { date: '2026-03-04', tasksCreated: 0, tasksCompleted: 1 },
        ],
      });
      // Carol: T3 (deleted) no longer counts as assigned to her; T4 does.
      expect(await userStats(CAROL, MARCH)).toMatchObject({ tasksCreated: 1, tasksCompleted: 0, tasksOpenAssigned: 1, averageCompletionSeconds: null });
      expect(await userStats(BOB, MARCH)).toMatchObject({ tasksCreated: 1, tasksCompleted: 1, tasksOpenAssigned: 0, averageCompletionSeconds: 90_000 });
    });

    it('counts a redelivered event once', async () => {
      const before = await dashboard(MARCH);
      const done = moved('2026-03-02T18:00:00Z', 'T6', ALICE, ALICE, ALICE, 'TODO', 'DONE');
      const creation = created('2026-03-01T18:00:00Z', 'T6', ALICE, ALICE);
      // The same envelopes twice (at-least-once delivery), then a marker on the same task (same ordering key).
      await publish([creation, creation, done, done]);
      await publish(commented('2026-03-09T10:00:00Z', 'T6', ZED));
      await settled(async () => expect((await dashboard(days('2026-03-09', '2026-03-09'))).totals.activeUsers).toBe(1));

      const after = await dashboard(MARCH);
      expect(after.totals.tasksCreated).toBe(before.totals.tasksCreated + 1);
      expect(after.totals.tasksCompleted).toBe(before.totals.tasksCompleted + 1);
      expect(after.days[1].tasksCompleted).toBe(before.days[1].tasksCompleted + 1);
      expect(after.topUsers[0]).toMatchObject({ user: { id: ALICE }, tasksCompleted: 4 });
    });

    it('handles events of a task it never saw created without crashing or inventing creations', async () => {
      const before = await dashboard(MARCH);
      await publish([
        moved('2026-03-08T10:00:00Z', 'GHOST-1', GUS, GUS, GUS, 'IN_PROGRESS', 'DONE'),
        deleted('2026-03-08T11:00:00Z', 'GHOST-2', GUS, null, GUS, 'TODO'),
        assigned('2026-03-08T12:00:00Z', 'GHOST-3', GUS, GUS),
      ]);
      await publish(commented('2026-03-08T13:00:00Z', 'GHOST-3', ZED));
      await settled(async () => expect((await dashboard(days('2026-03-08', '2026-03-08'))).totals.activeUsers).toBe(2));

      const day = await dashboard(days('2026-03-08', '2026-03-08'));
      expect(day.days).toEqual([{ date: '2026-03-08', tasksCreated: 0, tasksCompleted: 1, activeUsers: 2 }]);
      // No known creation time: not part of the average; unknown statuses are not open tasks.
      expect(day.totals.averageCompletionSeconds).toBeNull();
      expect(day.openTasksByStatus).toEqual(before.openTasksByStatus);
      expect(await userStats(GUS, days('2026-03-08', '2026-03-08'))).toMatchObject({ tasksCompleted: 1, tasksOpenAssigned: 0 });
    });
  });

  describe('a burst of events', () => {
    // May 2026: 500 tasks, 4 events each, spread over 5 days and 5 assignees, each done 1 day + 0-9 minutes after creation.
    const TASKS = 500;
    const PEOPLE = [ALICE, BOB, CAROL, DAVE, ERIN];
    const MAY = days('2026-05-01', '2026-05-06');

    it('ends with exactly the right totals, duplicates included', async () => {
      const before = await dashboard(MAY);
      expect(before.totals.tasksCreated).toBe(0);
      const openBefore = before.openTasksByStatus;
      const events: DomainEvent[] = [];
      const doneEvents: DomainEvent[] = [];
      for (let i = 0; i < TASKS; i++) {
        const id = `BURST-${i}`;
        const assignee = PEOPLE[Math.floor(i / 5) % PEOPLE.length]!;
        const createdAt = Date.UTC(2026, 4, 1 + (i % 5), 8, 0, i % 60);
        const at = (ms: number) => new Date(createdAt + ms).toISOString();
        const done = moved(at(86_400_000 + (i % 10) * 60_000), id, ADMIN, assignee, assignee, 'IN_PROGRESS', 'DONE');
        doneEvents.push(done);
        events.push(
          created(at(0), id, ADMIN),
          assigned(at(1000), id, assignee, ADMIN),
          moved(at(60_000), id, ADMIN, assignee, assignee, 'TODO', 'IN_PROGRESS'),
          done,
        );
      }
      for (let i = 0; i < events.length; i += 250) await publish(events.slice(i, i + 250));
      // Redeliver a fifth of the completions.
      await publish(doneEvents.filter((_event, index) => index % 5 === 0));

      const stats = await settled(async () => {
        const current = await dashboard(MAY);
        expect(current.totals).toMatchObject({ tasksCreated: TASKS, tasksCompleted: TASKS });
        return current;
      }, 180_000);

      expect(stats.days).toEqual([
        { date: '2026-05-01', tasksCreated: 100, tasksCompleted: 0, activeUsers: 6 },
        { date: '2026-05-02', tasksCreated: 100, tasksCompleted: 100, activeUsers: 6 },
        { date: '2026-05-03', tasksCreated: 100, tasksCompleted: 100, activeUsers: 6 },
        { date: '2026-05-04', tasksCreated: 100, tasksCompleted: 100, activeUsers: 6 },
        { date: '2026-05-05', tasksCreated: 100, tasksCompleted: 100, activeUsers: 6 },
        { date: '2026-05-06', tasksCreated: 0, tasksCompleted: 100, activeUsers: 5 },
      ]);
      expect(stats.totals.activeUsers).toBe(6);
      // 1 day + 4.5 minutes on average (the minute offsets 0-9 repeat evenly).
      expect(stats.totals.averageCompletionSeconds).toBeCloseTo(86_400 + 4.5 * 60, 6);
      expect(stats.topUsers.map((row: any) => [row.user.id, row.tasksCompleted])).toEqual(
        [...PEOPLE].sort().map((id) => [id, 100]),
      );
      expect(stats.openTasksByStatus).toEqual(openBefore);
      expect(await userStats(ADMIN, MAY)).toMatchObject({ tasksCreated: TASKS, tasksCompleted: 0 });
    }, 240_000);
  });

  describe('rebuilding by replay', () => {
    const YEAR = days('2026-01-01', '2026-12-31');

    it('replays every retained event and gives identical figures', async () => {
      const users = [ALICE, BOB, CAROL, GUS, ADMIN];
      const before = await dashboard(YEAR, tokenFor(ADMIN, ['ADMIN']), 20);
      const userBefore = await Promise.all(users.map((id) => userStats(id, YEAR)));
      expect(before.totals.tasksCreated).toBeGreaterThan(500);

      const result = await service.rebuildReadModels();
      // Duplicates are read back but applied once.
      expect(result.applied).toBe(published.size);
      expect(result.replayed).toBeGreaterThan(result.applied);

      expect(await dashboard(YEAR, tokenFor(ADMIN, ['ADMIN']), 20)).toEqual(before);
      expect(await Promise.all(users.map((id) => userStats(id, YEAR)))).toEqual(userBefore);
    }, 240_000);

    it('keeps counting live events once after a rebuild', async () => {
      const before = await dashboard(YEAR);
      await publish(created('2026-06-01T10:00:00Z', 'AFTER-REBUILD', BOB));
      await settled(async () => expect((await dashboard(YEAR)).totals.tasksCreated).toBe(before.totals.tasksCreated + 1));
    });
  });

  describe('who may see what', () => {
    it('answers UNAUTHENTICATED to anonymous callers', async () => {
      expect(errorCodes(await gql(DASHBOARD_PUBLIC, { preset: 'LAST_7_DAYS' }))).toEqual(['UNAUTHENTICATED']);
      const result = await gql(USER_STATS, { reps: [{ __typename: 'User', id: ALICE }] });
      expect(errorCodes(result)).toEqual(['UNAUTHENTICATED']);
      expect(result.data?._entities[0].stats).toBeNull();
    });

    it('shows platform totals to any signed-in user but per-user rankings only to admins', async () => {
      const viewer = tokenFor(CAROL, ['VIEWER']);
      expect((await ok(DASHBOARD_PUBLIC, { range: MARCH }, viewer)).dashboardStats.totals.tasksCreated).toBeGreaterThan(0);
      const result = await gql(DASHBOARD, { range: MARCH }, tokenFor(BOB, ['MEMBER']));
      expect(errorCodes(result)).toEqual(['FORBIDDEN']);
      expect(result.errors?.[0]?.path).toEqual(['dashboardStats', 'topUsers']);
      // Everything else still resolves.
      expect(result.data?.dashboardStats.topUsers).toBeNull();
      expect(result.data?.dashboardStats.totals.tasksCreated).toBeGreaterThan(0);
    });

    it("lets users read their own stats, admins anyone's, and nobody else", async () => {
      expect((await userStats(BOB, MARCH, tokenFor(BOB))).tasksCompleted).toBe(1);
      expect((await userStats(BOB, MARCH, tokenFor(ADMIN, ['ADMIN']))).tasksCompleted).toBe(1);
      const result = await gql(USER_STATS, { reps: [{ __typename: 'User', id: BOB }], range: MARCH }, tokenFor(ALICE));
      expect(errorCodes(result)).toEqual(['FORBIDDEN']);
      expect(result.data?._entities[0]).toEqual({ id: BOB, stats: null });
    });
  });

  describe('ranges', () => {
    it('defaults dashboards to the last 7 days and user stats to the last 30, ending today (UTC)', async () => {
      const stats = (await ok(DASHBOARD_PUBLIC, {}, tokenFor(BOB))).dashboardStats;
      expect(stats.days.map((day: any) => day.date)).toEqual([
        '2026-03-04', '2026-03-05', '2026-03-06', '2026-03-07', '2026-03-08', '2026-03-09', '2026-03-10',
      ]);
      const data = await ok(USER_STATS, { reps: [{ __typename: 'User', id: BOB }] }, tokenFor(BOB));
      expect(data._entities[0].stats.days).toHaveLength(30);
      expect((await ok(DASHBOARD_PUBLIC, { preset: 'LAST_30_DAYS' }, tokenFor(BOB))).dashboardStats.days).toHaveLength(30);
    });

    it('rejects bad ranges with BAD_USER_INPUT naming the field', async () => {
      const token = tokenFor(BOB);
      const cases: [Record<string, unknown>, string][] = [
        [{ range: { from: '2026-03-05T00:00:00Z', to: '2026-03-01T00:00:00Z' } }, 'range.from'],
        [{ range: { from: '2025-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' } }, 'range.to'],
        [{ range: MARCH, preset: 'LAST_7_DAYS' }, 'preset'],
      ];
      for (const [variables, field] of cases) {
        const result = await gql(DASHBOARD_PUBLIC, variables, token);
        expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
        expect(result.errors?.[0]?.extensions?.field).toBe(field);
      }
      const bad = await gql(USER_STATS, { reps: [{ __typename: 'User', id: BOB }], range: { from: '2026-03-05T00:00:00Z', to: '2026-03-01T00:00:00Z' } }, token);
      expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'range.from' });
      const first = await gql(DASHBOARD, { range: MARCH, first: 0 }, tokenFor(ADMIN, ['ADMIN']));
      expect(first.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    });
  });
});
