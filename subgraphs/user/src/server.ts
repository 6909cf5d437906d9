import path from 'node:path';
import { createSubgraphServer, readSchema, type Logger, type SubgraphServer } from '@meridian/service-kit';
import type { TokenVerifier } from '@meridian/tokens';
import type { PrismaClient } from './generated/prisma/client';
import { createUserRepository } from './data/userRepository';
import { resolvers } from './resolvers';

export const USER_SCHEMA_PATH = path.join(__dirname, 'schema.graphql');

export interface UserSubgraphDeps {
  prisma: PrismaClient;
  verifier: TokenVerifier;
  logger: Logger;
  production?: boolean;
}

/** Builds the user subgraph's HTTP server; does not listen. */
export function createUserSubgraph(deps: UserSubgraphDeps): SubgraphServer {
  return createSubgraphServer({
    name: 'user',
    typeDefs: readSchema(USER_SCHEMA_PATH),
    resolvers,
    verifier: deps.verifier,
    logger: deps.logger,
    production: deps.production,
    createContext: (base) => ({ ...base, users: createUserRepository(deps.prisma) }),
    isReady: async () => {
      await deps.prisma.$queryRaw`SELECT 1`;
    },
  });
}
