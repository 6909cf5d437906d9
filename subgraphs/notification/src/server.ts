import path from 'node:path';
import { createSubgraphServer, readSchema, type Logger, type PlatformEventBus, type SubgraphServer } from '@meridian/service-kit';
import type { TokenVerifier } from '@meridian/tokens';
import type { PrismaClient } from './generated/prisma/client';
import { createNotificationRepository } from './data/notificationRepository';
import { resolvers } from './resolvers';
import { authorizeResolvers } from '@meridian/authorization';
import { notificationPolicies } from './authorization';

export const NOTIFICATION_SCHEMA_PATH = path.join(__dirname, 'schema.graphql');

export interface NotificationSubgraphDeps {
  prisma: PrismaClient;
  verifier: TokenVerifier;
  bus: PlatformEventBus;
  logger: Logger;
  production?: boolean;
}

/** Builds the notification subgraph's HTTP server; does not listen. */
export function createNotificationSubgraph(deps: NotificationSubgraphDeps): SubgraphServer {
  const typeDefs = readSchema(NOTIFICATION_SCHEMA_PATH);
  return createSubgraphServer({
    name: 'notification',
    typeDefs,
    // The SDL's @authenticated / @requiresScopes / @policy decide who may resolve what.
    resolvers: authorizeResolvers({ typeDefs, resolvers: resolvers as Record<string, unknown>, policies: notificationPolicies }),
    verifier: deps.verifier,
    logger: deps.logger,
    production: deps.production,
    // A repository per request: its DataLoader must not cache across users or requests.
    createContext: (base) => ({
      ...base,
      notifications: createNotificationRepository(deps.prisma),
      bus: deps.bus,
      freshNotifications: () => createNotificationRepository(deps.prisma),
    }),
    isReady: async () => {
      await deps.prisma.$queryRaw`SELECT 1`;
    },
  });
}
