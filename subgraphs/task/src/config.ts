import { loadServiceConfig, type ServiceConfig } from '@meridian/service-kit';

/**
 * Task service configuration: TASK_PORT (default 4003), TASK_HOST, TASK_DATABASE_URL and the
 * platform-wide variables (DATA_DIR, REDIS_URL, JWKS_URL, ...), documented in the README.
 */
export function loadTaskConfig(env: Record<string, string | undefined> = process.env): TaskConfig {
  return loadServiceConfig('task', 4003, env);
}

export type TaskConfig = ServiceConfig;
