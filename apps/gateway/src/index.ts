export { createGateway, type Gateway, type GatewayDeps, type GatewayContext } from './server';
export { loadGatewayConfig, type GatewayConfig } from './config';
export { startGatewayService, type GatewayHandle } from './service';
export { keepWorkersRateBudgets } from './protection/rateLimits';
export {
  createSubgraphClients,
  SubgraphDataSource,
  DEFAULT_SUBGRAPH_CLIENT_OPTIONS,
  type SubgraphClientHooks,
  type SubgraphClientOptions,
  type FetchOutcome,
  type CircuitState,
} from './subgraphs/subgraphClient';
export type { ReloadResult } from './supergraph/supergraphSource';
export {
  createOperationExecutor,
  UNSUPPORTED as UNSUPPORTED_OPERATION,
  type OperationExecutor,
  type OperationExecutorOptions,
  type ServiceMap,
} from './execution/operationExecutor';
