import { createPlatformEventBus } from '@meridian/domain-events';
import { createLogger, runMain } from '@meridian/service-kit';
import { loadTaskConfig } from './config';
import { startTaskService } from './service';

/** Runs the task subgraph alone (distributed mode / containers). */
runMain('task', async () => {
  const config = loadTaskConfig();
  const logger = createLogger('task', config.logLevel);
  const bus = createPlatformEventBus({ redisUrl: config.redisUrl, logger });
  const service = await startTaskService({ config, bus, logger });
  logger.info({ url: `${service.url}/graphql` }, 'task subgraph ready');
  return {
    stop: async () => {
      await service.stop();
      await bus.close();
    },
  };
});
