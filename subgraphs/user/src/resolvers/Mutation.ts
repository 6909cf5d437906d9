import { requireSignedIn } from '@meridian/service-kit';
import { notFound } from '@meridian/errors';
import type { MutationResolvers } from '../generated/resolvers-types';
import { validateProfileChanges } from '../domain/profile';

export const Mutation: MutationResolvers = {
  updateProfile: async (_parent, { input }, { viewer, users }) => {
    const me = requireSignedIn(viewer);
    const changes = validateProfileChanges(input);
    if (!(await users.byId(me.userId))) throw notFound('User', me.userId);
    return users.updateProfile(me.userId, changes);
  },
};
