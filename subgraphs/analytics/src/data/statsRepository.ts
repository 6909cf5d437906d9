import type { PrismaClient } from '../generated/prisma/client';
import { utcDayOf, type Day } from '../domain/days';
import type { DayRange } from '../domain/statsRange';
import { OPEN_STATUSES, type TaskStatus } from '../domain/taskFacts';

export interface DailyPoint {
  date: Day;
  tasksCreated: number;
  tasksCompleted: number;
  activeUsers: number;
}

export interface UserDailyPoint {
  date: Day;
  tasksCreated: number;
  tasksCompleted: number;
}

export interface StatusCount {
  status: TaskStatus;
  count: number;
}

export interface UserThroughputRow {
  userId: string;
  tasksCompleted: number;
  averageCompletionSeconds: number | null;
}

/**
 * The only place that reads the analytics tables. One instance per request: results are
 * memoised, so fields that share a query (totals and the day series) run it once.
 */
export interface StatsRepository {
  /** One point per day of the range, zeros for days without rows. */
  dailySeries(range: DayRange): Promise<DailyPoint[]>;
  /** Distinct users who acted on any day of the range. */
  activeUserCount(range: DayRange): Promise<number>;
  /** Open tasks (TODO, IN_PROGRESS) not deleted, right now; every open status listed. */
  openTasksByStatus(): Promise<StatusCount[]>;
  /** Mean creation→completion seconds of DONE tasks completed in the range (optionally credited to one user). */
  averageCompletionSeconds(range: DayRange, userId?: string): Promise<number | null>;
  /** Users by completions in the range, most first, ties by id. */
  topUsers(range: DayRange, first: number): Promise<UserThroughputRow[]>;
  userSeries(userId: string, range: DayRange): Promise<UserDailyPoint[]>;
  /** Open tasks assigned to the user right now. */
  openAssignedCount(userId: string): Promise<number>;
}

const toDate = (day: Day) => new Date(`${day}T00:00:00.000Z`);
const toNumber = (value: unknown): number => Number(value ?? 0);
const toNullableNumber = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

export function createStatsRepository(prisma: PrismaClient): StatsRepository {
  const memo = new Map<string, Promise<unknown>>();
  function once<T>(key: string, load: () => Promise<T>): Promise<T> {
    let promise = memo.get(key) as Promise<T> | undefined;
    if (!promise) {
      promise = load();
      memo.set(key, promise);
    }
    return promise;
  }
  const dayWhere = (range: DayRange) => ({ gte: toDate(range.firstDay), lte: toDate(range.lastDay) });

  return {
    dailySeries: (range) =>
      once(`daily:${range.firstDay}:${range.lastDay}`, async () => {
        const [counters, active] = await Promise.all([
          prisma.dailyStats.findMany({ where: { day: dayWhere(range) } }),
          prisma.dailyActiveUser.groupBy({ by: ['day'], where: { day: dayWhere(range) }, _count: { _all: true } }),
        ]);
        const byDay = new Map(counters.map((row) => [utcDayOf(row.day), row]));
        const activeByDay = new Map(active.map((row) => [utcDayOf(row.day), row._count._all]));
        return range.days.map((date) => ({
          date,
          tasksCreated: byDay.get(date)?.tasksCreated ?? 0,
          tasksCompleted: byDay.get(date)?.tasksCompleted ?? 0,
          activeUsers: activeByDay.get(date) ?? 0,
        }));
      }),

    activeUserCount: (range) =>
      once(`active:${range.firstDay}:${range.lastDay}`, async () => {
        const [row] = await prisma.$queryRaw<{ count: unknown }[]>`
          SELECT count(DISTINCT user_id) AS count FROM daily_active_users
          WHERE day BETWEEN ${range.firstDay}::date AND ${range.lastDay}::date`;
        return toNumber(row?.count);
      }),

    openTasksByStatus: () =>
      once('open', async () => {
        const rows = await prisma.taskFact.groupBy({
          by: ['status'],
          where: { deletedAt: null, status: { in: [...OPEN_STATUSES] } },
          _count: { _all: true },
        });
        const counts = new Map(rows.map((row) => [row.status, row._count._all]));
        return OPEN_STATUSES.map((status) => ({ status, count: counts.get(status) ?? 0 }));
      }),

    averageCompletionSeconds: (range, userId) =>
      once(`avg:${range.firstDay}:${range.lastDay}:${userId ?? ''}`, async () => {
        // completed_at is only set while a task is DONE (its latest completion); clock skew never makes it negative.
        const [row] = await prisma.$queryRaw<{ average: unknown }[]>`
          SELECT avg(GREATEST(0, EXTRACT(EPOCH FROM (completed_at - created_at))))::float8 AS average
          FROM task_facts
          WHERE completed_at >= ${range.start} AND completed_at < ${range.end} AND created_at IS NOT NULL
            AND (${userId ?? null}::text IS NULL OR completed_by_id = ${userId ?? null}::text)`;
        return toNullableNumber(row?.average);
      }),

    topUsers: (range, first) =>
      once(`top:${range.firstDay}:${range.lastDay}:${first}`, async () => {
        const leaders = await prisma.$queryRaw<{ user_id: string; completed: unknown }[]>`
          SELECT user_id, sum(tasks_completed) AS completed FROM user_daily_stats
          WHERE day BETWEEN ${range.firstDay}::date AND ${range.lastDay}::date
          GROUP BY user_id HAVING sum(tasks_completed) > 0
          ORDER BY completed DESC, user_id ASC
          LIMIT ${first}`;
        if (leaders.length === 0) return [];
        const ids = leaders.map((row) => row.user_id);
        const averages = await prisma.$queryRaw<{ user_id: string; average: unknown }[]>`
          SELECT completed_by_id AS user_id, avg(GREATEST(0, EXTRACT(EPOCH FROM (completed_at - created_at))))::float8 AS average
          FROM task_facts
          WHERE completed_at >= ${range.start} AND completed_at < ${range.end} AND created_at IS NOT NULL
            AND completed_by_id = ANY(${ids}::text[])
          GROUP BY completed_by_id`;
        const averageOf = new Map(averages.map((row) => [row.user_id, toNullableNumber(row.average)]));
        return leaders.map((row) => ({
          userId: row.user_id,
          tasksCompleted: toNumber(row.completed),
          averageCompletionSeconds: averageOf.get(row.user_id) ?? null,
        }));
      }),

    userSeries: (userId, range) =>
      once(`user:${userId}:${range.firstDay}:${range.lastDay}`, async () => {
        const rows = await prisma.userDailyStats.findMany({ where: { userId, day: dayWhere(range) } });
        const byDay = new Map(rows.map((row) => [utcDayOf(row.day), row]));
        return range.days.map((date) => ({
          date,
          tasksCreated: byDay.get(date)?.tasksCreated ?? 0,
          tasksCompleted: byDay.get(date)?.tasksCompleted ?? 0,
        }));
      }),

    openAssignedCount: (userId) =>
      once(`assigned:${userId}`, () =>
        prisma.taskFact.count({ where: { assigneeId: userId, deletedAt: null, status: { in: [...OPEN_STATUSES] } } }),
      ),
  };
}

/**
 * A user as this subgraph knows one: by id only. Resolvers return these as entity references;
 * the gateway fetches every other User field from the user subgraph.
 */
export interface UserRef {
  __typename?: 'User';
  id: string;
}
