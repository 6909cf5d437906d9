import { startSubgraphService, type Logger, type PlatformEventBus, type ServiceHandle } from '@meridian/service-kit';
import { PrismaClient } from './generated/prisma/client';
import type { AnalyticsConfig } from './config';
import { subscribeAnalyticsEventHandlers, type RebuildResult } from './events';
import { createAnalyticsSubgraph } from './server';

export interface AnalyticsServiceHandle extends ServiceHandle {
  /** Empties the read models and rebuilds them by replaying every event the bus retains. */
  rebuildReadModels(): Promise<RebuildResult>;
}

/** Starts the analytics service: database, event handlers (read models), HTTP. */
export async function startAnalyticsService(options: {
  config: AnalyticsConfig;
  bus?: PlatformEventBus;
  logger?: Logger;
  now?: () => Date;
}): Promise<AnalyticsServiceHandle> {
  let rebuild: (() => Promise<RebuildResult>) | undefined;
  const handle = await startSubgraphService({
    ...options,
    createPrisma: (adapter) => new PrismaClient({ adapter }),
    build: async ({ prisma, bus, relay, verifier, logger, stack }) => {
      const handlers = await subscribeAnalyticsEventHandlers({ prisma, bus, logger, afterCommit: () => relay.notify() });
      stack.defer('event handlers', () => handlers.close());
      rebuild = () => handlers.rebuildReadModels();
      return createAnalyticsSubgraph({
        prisma,
        bus,
        verifier,
        logger,
        production: options.config.production,
        ...(options.now ? { now: options.now } : {}),
      });
    },
  });
  return {
    ...handle,
    rebuildReadModels: () => {
      if (!rebuild) throw new Error('analytics service is not running');
      return rebuild();
    },
  };
}
