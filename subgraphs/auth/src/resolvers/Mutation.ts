import { requireSignedIn } from '@meridian/service-kit';
import type { MutationResolvers } from '../generated/resolvers-types';

// Who may call what is declared in schema.graphql (@authenticated, @requiresScopes) and checked
// before these run; requireSignedIn only narrows the viewer's type here.

export const Mutation: MutationResolvers = {
  signUp: (_parent, { input }, { auth, device }) => auth.signUp(input, device),
  logIn: (_parent, { input }, { auth, device }) => auth.logIn(input, device),
  verifyMfa: (_parent, { input }, { auth, device }) => auth.verifyMfa(input, device),
  refreshSession: (_parent, { refreshToken }, { auth, device }) => auth.refreshSession(refreshToken, device),
  logOut: (_parent, _args, { auth, viewer }) => {
    const me = requireSignedIn(viewer);
    return auth.logOut(me.userId, me.sessionId);
  },
  logOutEverywhere: (_parent, _args, { auth, viewer, device }) => auth.logOutEverywhere(requireSignedIn(viewer).userId, device),
  revokeSession: (_parent, { id }, { auth, viewer, device }) => auth.revokeSession(requireSignedIn(viewer).userId, id, device),
  changePassword: (_parent, { currentPassword, newPassword }, { auth, viewer, device }) =>
    auth.changePassword(requireSignedIn(viewer), currentPassword, newPassword, device),
  requestPasswordReset: (_parent, { email }, { auth, device }) => auth.requestPasswordReset(email, device),
  resetPassword: (_parent, { token, newPassword }, { auth, device }) => auth.resetPassword(token, newPassword, device),
  startMfaEnrollment: (_parent, _args, { auth, viewer }) => auth.startMfaEnrollment(requireSignedIn(viewer).userId),
  confirmMfaEnrollment: (_parent, { code }, { auth, viewer, device }) => auth.confirmMfaEnrollment(requireSignedIn(viewer).userId, code, device),
  disableMfa: (_parent, { input }, { auth, viewer, device }) => auth.disableMfa(requireSignedIn(viewer).userId, input, device),
  setUserRoles: (_parent, { userId, roles }, { auth, viewer, device }) => auth.setUserRoles(requireSignedIn(viewer).userId, userId, roles, device),
  unlockAccount: (_parent, { userId }, { auth, viewer, device }) => auth.unlockAccount(requireSignedIn(viewer).userId, userId, device),
  rotateSigningKey: (_parent, _args, { auth, viewer, device }) => auth.rotateSigningKey(requireSignedIn(viewer).userId, device),
};
