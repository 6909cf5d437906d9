import { requireSignedIn } from '@meridian/service-kit';
import type { MutationResolvers } from '../generated/resolvers-types';

export const Mutation: MutationResolvers = {
  signUp: (_parent, { input }, { auth, device }) => auth.signUp(input, device),
  logIn: (_parent, { input }, { auth, device }) => auth.logIn(input, device),
  refreshSession: (_parent, { refreshToken }, { auth }) => auth.refreshSession(refreshToken),
  logOut: (_parent, _args, { auth, viewer }) => {
    const me = requireSignedIn(viewer);
    return auth.logOut(me.userId, me.sessionId);
  },
};
