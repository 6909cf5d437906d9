import { z } from 'zod';
import { envSchemas, parseEnv, resolveServiceDataDir } from '@meridian/service-kit';

/** Every variable is documented in subgraphs/auth/README.md and .env.example. */
export function loadAuthConfig(env: Record<string, string | undefined> = process.env) {
  const parsed = parseEnv(
    {
      AUTH_PORT: envSchemas.port(4002),
      AUTH_HOST: z.string().default('127.0.0.1'),
      AUTH_DATABASE_URL: envSchemas.optionalUrl(),
      DATA_DIR: envSchemas.dataDir(),
      REDIS_URL: envSchemas.optionalUrl(),
      JWKS_URL: envSchemas.url().optional(),
      JWT_ISSUER: z.string().min(1).default('meridian-auth'),
      JWT_AUDIENCE: z.string().min(1).default('meridian'),
      ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(3600).default(900),
      SIGN_UP_PROFILE_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
      NODE_ENV: envSchemas.nodeEnv(),
      LOG_LEVEL: envSchemas.logLevel(),
    },
    env,
  );
  return {
    port: parsed.AUTH_PORT,
    host: parsed.AUTH_HOST,
    database: { databaseUrl: parsed.AUTH_DATABASE_URL, dataDir: resolveServiceDataDir(parsed.DATA_DIR, 'auth') },
    redisUrl: parsed.REDIS_URL,
    /** The auth service verifies its own tokens through its own JWKS unless told otherwise. */
    jwksUrl: parsed.JWKS_URL,
    issuer: parsed.JWT_ISSUER,
    audience: parsed.JWT_AUDIENCE,
    accessTokenTtlSeconds: parsed.ACCESS_TOKEN_TTL_SECONDS,
    signUpProfileTimeoutMs: parsed.SIGN_UP_PROFILE_TIMEOUT_MS,
    production: parsed.NODE_ENV === 'production',
    logLevel: parsed.LOG_LEVEL,
  };
}

export type AuthConfig = ReturnType<typeof loadAuthConfig>;
