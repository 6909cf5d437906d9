import type { QueryResolvers } from '../generated/resolvers-types';
import { resolveStatsRange } from '../domain/statsRange';

// Platform totals and series carry no one's personal figures: every signed-in user may read them (@authenticated in schema.graphql).
export const Query: QueryResolvers = {
  dashboardStats: (_parent, args, { now }) => {
    return { range: resolveStatsRange(args, now, 'LAST_7_DAYS') };
  },
};
