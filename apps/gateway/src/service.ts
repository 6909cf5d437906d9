import { workerPeers, type Logger, type ServiceHandle } from '@meridian/service-kit';
import { createTokenVerifier } from '@meridian/tokens';
import { initTracing } from '@meridian/observability';
import type { GatewayConfig } from './config';
import { createGateway, type Gateway } from './server';
import type { SubgraphClientHooks } from './subgraphs/subgraphClient';

export interface GatewayHandle extends ServiceHandle {
  /** Live subscription figures. */
  stats: Gateway['stats'];
  reloadSupergraph: Gateway['reloadSupergraph'];
  /** The subgraph clients (circuit state per subgraph). */
  subgraphs: Gateway['subgraphs'];
}

export async function startGatewayService(options: { config: GatewayConfig; logger: Logger; subgraphHooks?: SubgraphClientHooks }): Promise<GatewayHandle> {
  const { config, logger } = options;
  initTracing({ serviceName: config.telemetry.serviceName ?? 'gateway', ...config.telemetry });
  // As one of GATEWAY_WORKERS processes, the workers share upstream subscriptions (peerStreams.ts).
  const gateway = createGateway({ ...config, verifier: createTokenVerifier(config.tokens), logger, subgraphHooks: options.subgraphHooks, peers: workerPeers() });
  const running = await gateway.listen(config.port, config.host);
  return {
    name: 'gateway',
    url: running.url,
    shutdownTimeoutMs: config.shutdown.timeoutMs,
    readiness: gateway.readiness,
    stop: () => gateway.close(),
    stats: () => gateway.stats(),
    reloadSupergraph: () => gateway.reloadSupergraph(),
    subgraphs: () => gateway.subgraphs(),
  };
}
