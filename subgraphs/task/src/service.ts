import { startSubgraphService, type Logger, type PlatformEventBus, type ServiceHandle } from '@meridian/service-kit';
import { PrismaClient } from './generated/prisma/client';
import type { TaskConfig } from './config';
import { createTaskSubgraph } from './server';

/** Starts the task service: database, outbox relay, HTTP. */
export function startTaskService(options: { config: TaskConfig; bus?: PlatformEventBus; logger?: Logger }): Promise<ServiceHandle> {
  return startSubgraphService({
    ...options,
    createPrisma: (adapter) => new PrismaClient({ adapter }),
    build: ({ prisma, bus, relay, verifier, logger }) =>
      createTaskSubgraph({ prisma, bus, verifier, logger, production: options.config.production, afterCommit: () => relay.notify() }),
  });
}
