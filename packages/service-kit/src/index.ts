export { parseEnv, envSchemas, resolveServiceDataDir, IN_MEMORY } from './config';
export { createLogger, type Logger } from './logger';
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
