import { z } from 'zod';
import { envSchemas, parseEnv, resolveServiceDataDir } from '@meridian/service-kit';

/** Every variable is documented in subgraphs/user/README.md and .env.example. */
export function loadUserConfig(env: Record<string, string | undefined> = process.env) {
  const parsed = parseEnv(
    {
      USER_PORT: envSchemas.port(4001),
      USER_HOST: z.string().default('127.0.0.1'),
      USER_DATABASE_URL: envSchemas.optionalUrl(),
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
    port: parsed.USER_PORT,
    host: parsed.USER_HOST,
    database: { databaseUrl: parsed.USER_DATABASE_URL, dataDir: resolveServiceDataDir(parsed.DATA_DIR, 'user') },
    redisUrl: parsed.REDIS_URL,
    tokens: { jwksUrl: parsed.JWKS_URL, issuer: parsed.JWT_ISSUER, audience: parsed.JWT_AUDIENCE },
    production: parsed.NODE_ENV === 'production',
    logLevel: parsed.LOG_LEVEL,
  };
}

export type UserConfig = ReturnType<typeof loadUserConfig>;
