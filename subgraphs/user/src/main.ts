import { createLogger, runMain } from '@meridian/service-kit';
import { createPlatformEventBus } from '@meridian/domain-events';
import { loadUserConfig } from './config';
import { startUserService } from './service';

/** Runs the user subgraph alone (distributed mode / containers). */
runMain('user', async () => {
  const config = loadUserConfig();
  const logger = createLogger('user', config.logLevel);
  const bus = createPlatformEventBus({ redisUrl: config.redisUrl, logger });
  const service = await startUserService({ config, bus, logger });
  logger.info({ url: `${service.url}/graphql` }, 'user subgraph ready');
  return {
    stop: async () => {
      await service.stop();
      await bus.close();
    },
  };
});
