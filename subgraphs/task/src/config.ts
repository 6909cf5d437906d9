import { z } from 'zod';
import { envSchemas, parseEnv, resolveServiceDataDir } from '@meridian/service-kit';

/** Every variable is documented in subgraphs/task/README.md. */
export function loadTaskConfig(env: Record<string, string | undefined> = process.env) {
  const parsed = parseEnv(
    {
      TASK_PORT: envSchemas.port(4003),
      TASK_HOST: z.string().default('127.0.0.1'),
      TASK_DATABASE_URL: envSchemas.optionalUrl(),
      DATA_DIR: envSchemas.dataDir(),
      REDIS_URL: envSchemas.optionalUrl(),
      JWKS_URL: envSchemas.url().default('http://127.0.0.1:4002/.well-known/jwks.json'),
      JWT_ISSUER: z.string().min(1).default('meridian-auth'),
      JWT_AUDIENCE: z.string().min(1).default('meridian'),
      NODE_ENV: envSchemas.nodeEnv(),
      LOG_LEVEL: envSchemas.logLevel(),
    },
    env,
  );
  return {
    port: parsed.TASK_PORT,
    host: parsed.TASK_HOST,
    database: { databaseUrl: parsed.TASK_DATABASE_URL, dataDir: resolveServiceDataDir(parsed.DATA_DIR, 'task') },
    redisUrl: parsed.REDIS_URL,
    tokens: { jwksUrl: parsed.JWKS_URL, issuer: parsed.JWT_ISSUER, audience: parsed.JWT_AUDIENCE },
    production: parsed.NODE_ENV === 'production',
    logLevel: parsed.LOG_LEVEL,
  };
}

export type TaskConfig = ReturnType<typeof loadTaskConfig>;
