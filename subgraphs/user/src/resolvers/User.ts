import { hasRole, isSignedIn } from '@meridian/tokens';
import type { UserResolvers } from '../generated/resolvers-types';

export const User: UserResolvers = {
  // The gateway sends every reference of one plan in one request; the loader turns them into one query.
  __resolveReference: (reference, { users }) => users.byId(reference.id),
  email: (user, _args, { viewer }) =>
    isSignedIn(viewer) && (viewer.userId === user.id || hasRole(viewer, 'ADMIN')) ? user.email : null,
  roles: (user) => user.roles,
  createdAt: (user) => user.createdAt,
};
