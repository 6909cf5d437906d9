import type { SessionResolvers } from '../generated/resolvers-types';

export const Session: SessionResolvers = {
  current: (session, _args, { viewer }) => viewer.kind === 'user' && viewer.sessionId === session.id,
};
