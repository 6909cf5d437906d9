export { createAuthSubgraph, AUTH_SCHEMA_PATH, JWKS_PATH, type AuthSubgraphDeps } from './server';
export { startAuthService } from './service';
export { loadAuthConfig, type AuthConfig } from './config';
