import { z } from 'zod';
import { loadServiceConfig } from '@meridian/service-kit';

/**
 * Auth service configuration: AUTH_PORT (default 4002), AUTH_HOST, AUTH_DATABASE_URL, the
 * platform-wide variables, and the token settings below; documented in the README.
 */
export function loadAuthConfig(env: Record<string, string | undefined> = process.env) {
  const config = loadServiceConfig('auth', 4002, env, {
    ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(3600).default(900),
    SIGN_UP_PROFILE_TIMEOUT_MS: z.coerce.number().int().min(0).max(60_000).default(10_000),
  });
  return {
    ...config,
    accessTokenTtlSeconds: config.extra.ACCESS_TOKEN_TTL_SECONDS,
    signUpProfileTimeoutMs: config.extra.SIGN_UP_PROFILE_TIMEOUT_MS,
  };
}

export type AuthConfig = ReturnType<typeof loadAuthConfig>;
