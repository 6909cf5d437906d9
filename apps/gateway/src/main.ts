import { createLogger, runMain } from '@meridian/service-kit';
import { loadGatewayConfig } from './config';
import { startGatewayService } from './service';

/** Runs the gateway alone (distributed mode / containers). */
runMain('gateway', async () => {
  const config = loadGatewayConfig();
  const logger = createLogger('gateway', config.logLevel);
  const handle = await startGatewayService({ config, logger });
  logger.info({ url: `${handle.url}/graphql` }, 'gateway ready');
  return handle;
});
