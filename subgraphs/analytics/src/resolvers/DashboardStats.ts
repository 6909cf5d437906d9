import { badUserInput } from '@meridian/errors';
import type { DashboardStatsResolvers } from '../generated/resolvers-types';

const TOP_USERS_MAX = 100;

export const DashboardStats: DashboardStatsResolvers = {
  from: ({ range }) => range.start,
  to: ({ range }) => range.end,
  days: ({ range }, _args, { stats }) => stats.dailySeries(range),
  totals: async ({ range }, _args, { stats }) => {
    // Created/completed totals are the sums of the day series, so the chart and the totals always agree.
    const [days, activeUsers, open, averageCompletionSeconds] = await Promise.all([
      stats.dailySeries(range),
      stats.activeUserCount(range),
      stats.openTasksByStatus(),
      stats.averageCompletionSeconds(range),
    ]);
    return {
      tasksCreated: days.reduce((sum, day) => sum + day.tasksCreated, 0),
      tasksCompleted: days.reduce((sum, day) => sum + day.tasksCompleted, 0),
      activeUsers,
      openTasks: open.reduce((sum, entry) => sum + entry.count, 0),
      averageCompletionSeconds,
    };
  },
  openTasksByStatus: (_scope, _args, { stats }) => stats.openTasksByStatus(),
  topUsers: async ({ range }, { first }, { stats }) => {
    // @requiresScopes(scopes: [["users:admin"]]) in schema.graphql: ADMINs only.
    const limit = first ?? 10;
    if (!Number.isInteger(limit) || limit < 1 || limit > TOP_USERS_MAX) throw badUserInput('first', `must be 1 to ${TOP_USERS_MAX}.`);
    const rows = await stats.topUsers(range, limit);
    return rows.map((row) => ({ ...row, user: { __typename: 'User' as const, id: row.userId } }));
  },
};
