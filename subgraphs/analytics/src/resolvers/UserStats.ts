import type { UserStatsResolvers } from '../generated/resolvers-types';

// Access was checked by User.stats, which produced this scope.
export const UserStats: UserStatsResolvers = {
  days: ({ userId, range }, _args, { stats }) => stats.userSeries(userId, range),
  tasksCreated: async ({ userId, range }, _args, { stats }) =>
    (await stats.userSeries(userId, range)).reduce((sum, day) => sum + day.tasksCreated, 0),
  tasksCompleted: async ({ userId, range }, _args, { stats }) =>
    (await stats.userSeries(userId, range)).reduce((sum, day) => sum + day.tasksCompleted, 0),
  tasksOpenAssigned: ({ userId }, _args, { stats }) => stats.openAssignedCount(userId),
  averageCompletionSeconds: ({ userId, range }, _args, { stats }) => stats.averageCompletionSeconds(range, userId),
};
