import { createLogger, runWorkers } from '@meridian/service-kit';
import { loadGatewayConfig, type GatewayConfig } from './config';
import { keepWorkersRateBudgets } from './protection/rateLimits';
import { startGatewayService } from './service';

/**
 * Runs the gateway alone (distributed mode / containers): in this process, or as GATEWAY_WORKERS
 * processes sharing its port. The configuration is checked before any worker starts.
 */
let config: GatewayConfig;
try {
  config = loadGatewayConfig();
} catch (error) {
  console.error(`gateway failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
runWorkers(
  'gateway',
  async () => {
    const logger = createLogger('gateway', config.logLevel);
    const handle = await startGatewayService({ config, logger });
    logger.info({ url: `${handle.url}/graphql`, pid: process.pid }, 'gateway ready');
    return handle;
  },
  {
    workers: config.workers,
    shutdownTimeoutMs: config.shutdown.timeoutMs,
    primary: keepWorkersRateBudgets,
  },
);
