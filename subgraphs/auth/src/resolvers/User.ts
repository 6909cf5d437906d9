import { hasRole, isSignedIn } from '@meridian/tokens';
import type { UserResolvers } from '../generated/resolvers-types';

export const User: UserResolvers = {
  __resolveReference: (reference) => ({ id: reference.id }),
  sessions: (user, _args, { viewer, auth }) =>
    isSignedIn(viewer) && viewer.userId === user.id ? auth.listSessions(user.id) : null,
  mfaEnabled: (user, _args, { viewer, auth }) =>
    isSignedIn(viewer) && (viewer.userId === user.id || hasRole(viewer, 'ADMIN')) ? auth.mfaEnabled(user.id) : null,
};
