import type { QueryResolvers } from '../generated/resolvers-types';
import { requireAdmin } from './Mutation';

export const Query: QueryResolvers = {
  auditLog: (_parent, args, { auth, viewer }) => {
    requireAdmin(viewer);
    return auth.auditLog(args);
  },
};
