import { startSubgraphService, type Logger, type PlatformEventBus, type ServiceHandle } from '@meridian/service-kit';
import { PrismaClient } from './generated/prisma/client';
import type { UserConfig } from './config';
import { subscribeUserEventHandlers } from './events';
import { createUserSubgraph } from './server';

/** Starts the user service: database, outbox relay, event handlers (profile provisioning), HTTP. */
export function startUserService(options: { config: UserConfig; bus?: PlatformEventBus; logger?: Logger }): Promise<ServiceHandle> {
  return startSubgraphService({
    ...options,
    createPrisma: (adapter) => new PrismaClient({ adapter }),
    build: async ({ prisma, bus, relay, verifier, logger, stack }) => {
      const handlers = await subscribeUserEventHandlers({ prisma, bus, afterCommit: () => relay.notify(), logger });
      stack.defer('event handlers', () => handlers.close());
      return createUserSubgraph({ prisma, verifier, logger, production: options.config.production });
    },
  });
}
