import type { QueryResolvers } from '../generated/resolvers-types';

export const Query: QueryResolvers = {
  // @requiresScopes(scopes: [["users:admin"]]) in schema.graphql: ADMINs only.
  auditLog: (_parent, args, { auth }) => auth.auditLog(args),
};
