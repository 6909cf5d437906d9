import { isSignedIn } from '@meridian/tokens';
import { pageArgs, requireSignedIn, toConnection } from '@meridian/service-kit';
import type { QueryResolvers } from '../generated/resolvers-types';

export const Query: QueryResolvers = {
  me: (_parent, _args, { viewer, users }) => (isSignedIn(viewer) ? users.byId(viewer.userId) : null),
  user: (_parent, { id }, { viewer, users }) => {
    requireSignedIn(viewer);
    return users.byId(id);
  },
  users: async (_parent, args, { viewer, users }) => {
    requireSignedIn(viewer);
    const { first, afterId } = pageArgs(args);
    const search = args.search?.trim() || undefined;
    return toConnection(await users.list({ first, afterId, search }));
  },
};
