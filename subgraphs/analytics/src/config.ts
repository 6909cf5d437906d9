import { loadServiceConfig, type ServiceConfig } from '@meridian/service-kit';

/**
 * Analytics service configuration: ANALYTICS_PORT (default 4005), ANALYTICS_HOST,
 * ANALYTICS_DATABASE_URL and the platform-wide variables (DATA_DIR, REDIS_URL, JWKS_URL, ...),
 * documented in the README.
 */
export function loadAnalyticsConfig(env: Record<string, string | undefined> = process.env): AnalyticsConfig {
  return loadServiceConfig('analytics', 4005, env);
}

export type AnalyticsConfig = ServiceConfig;
