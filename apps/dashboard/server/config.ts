import { z } from 'zod';
import { envSchemas, parseEnv } from '@meridian/service-kit';

/** DASHBOARD_PORT (default 4100), DASHBOARD_HOST (default 127.0.0.1), GATEWAY_URL (default http://127.0.0.1:4000). */
export function loadDashboardConfig(env: Record<string, string | undefined> = process.env) {
  const parsed = parseEnv(
    {
      DASHBOARD_PORT: envSchemas.port(4100),
      DASHBOARD_HOST: z.string().min(1).default('127.0.0.1'),
      GATEWAY_URL: envSchemas.url().default('http://127.0.0.1:4000'),
    },
    env,
  );
  return { port: parsed.DASHBOARD_PORT, host: parsed.DASHBOARD_HOST, gatewayUrl: parsed.GATEWAY_URL };
}
