import { createLogger, runMain } from '@meridian/service-kit';
import { createPlatformEventBus } from '@meridian/domain-events';
import { loadAuthConfig } from './config';
import { startAuthService } from './service';

/** Runs the auth subgraph alone (distributed mode / containers). */
runMain('auth', async () => {
  const config = loadAuthConfig();
  const logger = createLogger('auth', config.logLevel);
  const bus = createPlatformEventBus({ redisUrl: config.redisUrl, logger });
  const service = await startAuthService({ config, bus, logger });
  logger.info({ url: `${service.url}/graphql` }, 'auth subgraph ready');
  return {
    stop: async () => {
      await service.stop();
      await bus.close();
    },
  };
});
