export { parseEnv, envSchemas, resolveServiceDataDir, loadServiceConfig, telemetryShape, telemetryConfig, IN_MEMORY, DEFAULT_JWKS_URL, type ServiceConfig, type TelemetryConfig } from './config';
export { createLogger, type Logger, type LogDestination } from './logger';
export { listen, closeServer, type RunningServer } from './http';
export {
  createSubgraphServer,
  type BaseContext,
  type SubgraphServer,
  type SubgraphServerOptions,
} from './subgraph';
export { readSchema } from './schema';
export { encodeCursor, decodeCursor, pageArgs, toConnection, MAX_PAGE_SIZE } from './pagination';
export { requireSignedIn } from './viewer';
export { DateTime } from './scalars';
export { createShutdownStack, startWithCleanup, runMain, type ServiceHandle, type ShutdownStack } from './lifecycle';
export { runWorkers, type WorkersOptions } from './workers';
export { createPeerRelay, workerPeers, type WorkerPeers } from './workerPeers';
export { startSubgraphService, type PlatformEventBus, type ServicePrisma, type ServiceWiring, type StartSubgraphServiceOptions } from './service';
export { streamEvents, createEventReadCache, DEFAULT_MAX_BUFFERED_EVENTS, type EventStreamOptions, type EventReadCache, type EventReadCacheOptions } from './eventStream';
export { attachWebSocketServer } from './websocket';
export { createConnectionDrain, type ConnectionDrain } from './connectionDrain';
export { closeConnectionsWhileDraining, createReadiness, type Readiness, type ReadinessCheck, type ReadinessReport } from './readiness';
export { createRedisReadinessCheck } from './redisReadiness';
export { createObservabilityPlugin, createRequestTracer, metricsHandler, operationSpanName, requestIdOf, tracingMiddleware } from './observability';
