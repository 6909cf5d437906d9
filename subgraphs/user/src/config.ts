import { loadServiceConfig, type ServiceConfig } from '@meridian/service-kit';

/**
 * User service configuration: USER_PORT (default 4001), USER_HOST, USER_DATABASE_URL and the
 * platform-wide variables (DATA_DIR, REDIS_URL, JWKS_URL, ...), documented in the README.
 */
export function loadUserConfig(env: Record<string, string | undefined> = process.env): UserConfig {
  return loadServiceConfig('user', 4001, env);
}

export type UserConfig = ServiceConfig;
