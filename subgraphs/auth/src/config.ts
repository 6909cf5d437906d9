import { z } from 'zod';
import { loadServiceConfig } from '@meridian/service-kit';

/** 32 bytes as base64/base64url (44 or 43 characters) or hex (64 characters). */
function parseKey(value: string): Buffer | undefined {
  const bytes = /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
  return bytes.length === 32 ? bytes : undefined;
}

/**
 * Auth service configuration: AUTH_PORT (default 4002), AUTH_HOST, AUTH_DATABASE_URL, the
 * platform-wide variables, and the settings below; documented in the README.
 */
export function loadAuthConfig(env: Record<string, string | undefined> = process.env) {
  const config = loadServiceConfig('auth', 4002, env, {
    // Short lifetimes (down to 2 s) exist for tests of expiry; production wants minutes.
    ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(2).max(3600).default(900),
    SIGN_UP_PROFILE_TIMEOUT_MS: z.coerce.number().int().min(0).max(60_000).default(10_000),
    AUTH_SECRETS_KEY: z
      .string()
      .refine((value) => parseKey(value) !== undefined, 'must be 32 random bytes, base64 or hex (e.g. `openssl rand -base64 32`)')
      .optional(),
    BOOTSTRAP_ADMIN_EMAILS: z.string().default(''),
    SIGNING_KEY_OVERLAP_SECONDS: z.coerce.number().int().min(60).optional(),
    SIGNING_KEY_CHECK_INTERVAL_MS: z.coerce.number().int().min(1000).default(60_000),
    SIGNING_KEY_CACHE_MS: z.coerce.number().int().min(0).max(300_000).default(10_000),
  });
  const extra = config.extra;
  if (config.production && !extra.AUTH_SECRETS_KEY) {
    throw new Error('Invalid configuration:\n  AUTH_SECRETS_KEY: required when NODE_ENV=production (not set)');
  }
  const overlap = extra.SIGNING_KEY_OVERLAP_SECONDS ?? extra.ACCESS_TOKEN_TTL_SECONDS + 60;
  if (overlap < extra.ACCESS_TOKEN_TTL_SECONDS) {
    throw new Error('Invalid configuration:\n  SIGNING_KEY_OVERLAP_SECONDS: must be at least ACCESS_TOKEN_TTL_SECONDS');
  }
  return {
    ...config,
    accessTokenTtlSeconds: extra.ACCESS_TOKEN_TTL_SECONDS,
    signUpProfileTimeoutMs: extra.SIGN_UP_PROFILE_TIMEOUT_MS,
    /** Undefined: development key file next to the data (or in memory); see secretsKey.ts. */
    secretsKey: extra.AUTH_SECRETS_KEY ? parseKey(extra.AUTH_SECRETS_KEY) : undefined,
    bootstrapAdminEmails: new Set(
      extra.BOOTSTRAP_ADMIN_EMAILS.split(',')
        .map((email) => email.trim().toLowerCase())
        .filter(Boolean),
    ),
    signingKeyOverlapSeconds: overlap,
    signingKeyCheckIntervalMs: extra.SIGNING_KEY_CHECK_INTERVAL_MS,
    signingKeyCacheMs: extra.SIGNING_KEY_CACHE_MS,
  };
}

export type AuthConfig = ReturnType<typeof loadAuthConfig>;
