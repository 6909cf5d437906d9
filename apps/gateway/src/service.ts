import type { Logger, ServiceHandle } from '@meridian/service-kit';
import { createTokenVerifier } from '@meridian/tokens';
import { initTracing } from '@meridian/observability';
import type { GatewayConfig } from './config';
import { createGateway, type Gateway } from './server';

export interface GatewayHandle extends ServiceHandle {
  /** Live subscription figures. */
  stats: Gateway['stats'];
}

export async function startGatewayService(options: { config: GatewayConfig; logger: Logger }): Promise<GatewayHandle> {
  const { config, logger } = options;
  initTracing({ serviceName: config.telemetry.serviceName ?? 'gateway', ...config.telemetry });
  const gateway = createGateway({ ...config, verifier: createTokenVerifier(config.tokens), logger });
  const running = await gateway.listen(config.port, config.host);
  return { name: 'gateway', url: running.url, stop: () => gateway.close(), stats: () => gateway.stats() };
}
