import path from 'node:path';
import { createSubgraphServer, readSchema, type Logger, type SubgraphServer } from '@meridian/service-kit';
import type { TokenVerifier } from '@meridian/tokens';
import type { PrismaClient } from './generated/prisma/client';
import { createUserRepository } from './data/userRepository';
import { resolvers } from './resolvers';
import { authorizeResolvers } from '@meridian/authorization';

export const USER_SCHEMA_PATH = path.join(__dirname, 'schema.graphql');

export interface UserSubgraphDeps {
  prisma: PrismaClient;
  verifier: TokenVerifier;
  logger: Logger;
  production?: boolean;
}

/** Builds the user subgraph's HTTP server; does not listen. */
export function createUserSubgraph(deps: UserSubgraphDeps): SubgraphServer {
  const typeDefs = readSchema(USER_SCHEMA_PATH);
  return createSubgraphServer({
    name: 'user',
    typeDefs,
    // The SDL's @authenticated / @requiresScopes / @policy decide who may resolve what.
    resolvers: authorizeResolvers({ typeDefs, resolvers: resolvers as Record<string, unknown> }),
    verifier: deps.verifier,
    logger: deps.logger,
    production: deps.production,
    createContext: (base) => ({ ...base, users: createUserRepository(deps.prisma) }),
    isReady: async () => {
      await deps.prisma.$queryRaw`SELECT 1`;
    },
  });
}
