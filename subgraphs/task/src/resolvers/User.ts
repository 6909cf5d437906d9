import { pageArgs, toConnection } from '@meridian/service-kit';
import type { UserResolvers } from '../generated/resolvers-types';

export const User: UserResolvers = {
  // Only the id is known here, and any id is a valid reference: a user with no tasks has an empty list.
  __resolveReference: (reference) => ({ __typename: 'User', id: reference.id }),
  assignedTasks: async (user, { status, ...args }, { tasks }) => {
    return toConnection(await tasks.listTasks({ assigneeId: user.id, ...(status ? { status } : {}) }, pageArgs(args)));
  },
};
