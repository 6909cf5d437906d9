import type { UserResolvers } from '../generated/resolvers-types';
import { resolveStatsRange } from '../domain/statsRange';

export const User: UserResolvers = {
  // Only the id is known here, and any id is a valid reference: a user without activity has zero figures.
  __resolveReference: (reference) => ({ __typename: 'User', id: reference.id }),
  stats: (user, args, { now }) => {
    // @policy(policies: [["self-or-admin"]]) in schema.graphql: the user themselves or an ADMIN.
    return { userId: user.id, range: resolveStatsRange(args, now, 'LAST_30_DAYS') };
  },
};
