import path from 'node:path';
import { createSubgraphServer, readSchema, type Logger, type PlatformEventBus, type SubgraphServer } from '@meridian/service-kit';
import type { TokenVerifier } from '@meridian/tokens';
import type { PrismaClient } from './generated/prisma/client';
import { createStatsRepository } from './data/statsRepository';
import { resolvers } from './resolvers';
import { authorizeResolvers } from '@meridian/authorization';
import { analyticsPolicies } from './authorization';
import type { Context } from './context';

export const ANALYTICS_SCHEMA_PATH = path.join(__dirname, 'schema.graphql');

export interface AnalyticsSubgraphDeps {
  prisma: PrismaClient;
  verifier: TokenVerifier;
  bus: PlatformEventBus;
  logger: Logger;
  production?: boolean;
  /** The clock presets such as LAST_7_DAYS end at (default: the real one). */
  now?: () => Date;
}

/** Builds the analytics subgraph's HTTP server; does not listen. */
export function createAnalyticsSubgraph(deps: AnalyticsSubgraphDeps): SubgraphServer {
  const now = deps.now ?? (() => new Date());
  const typeDefs = readSchema(ANALYTICS_SCHEMA_PATH);
  return createSubgraphServer({
    name: 'analytics',
    typeDefs,
    // The SDL's @authenticated / @requiresScopes / @policy decide who may resolve what.
    resolvers: authorizeResolvers({ typeDefs, resolvers: resolvers as Record<string, unknown>, policies: analyticsPolicies }),
    verifier: deps.verifier,
    logger: deps.logger,
    production: deps.production,
    // A repository per request: its memoised results must not outlive the request.
    createContext: (base) => {
      const context: Context = {
        ...base,
        stats: createStatsRepository(deps.prisma),
        renewStats: () => {
          context.stats = createStatsRepository(deps.prisma);
        },
        bus: deps.bus,
        now: now(),
      };
      return context;
    },
    isReady: async () => {
      await deps.prisma.$queryRaw`SELECT 1`;
    },
  });
}
