export { createUserSubgraph, USER_SCHEMA_PATH, type UserSubgraphDeps } from './server';
export { startUserService } from './service';
export { loadUserConfig, type UserConfig } from './config';
