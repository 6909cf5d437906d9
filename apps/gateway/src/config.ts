import path from 'node:path';
import { z } from 'zod';
import { envSchemas, parseEnv, telemetryConfig, telemetryShape } from '@meridian/service-kit';
import { findRepoRoot, SUPERGRAPH_CONFIG_FILE, SUPERGRAPH_FILE } from '@meridian/composition';

/** Every variable is documented in apps/gateway/README.md and .env.example. */
export function loadGatewayConfig(env: Record<string, string | undefined> = process.env) {
  const root = findRepoRoot();
  const parsed = parseEnv(
    {
      GATEWAY_PORT: envSchemas.port(4000),
      GATEWAY_HOST: z.string().default('127.0.0.1'),
      SUPERGRAPH_PATH: z.string().default(path.join(root, SUPERGRAPH_FILE)),
      SUPERGRAPH_CONFIG_PATH: z.string().default(path.join(root, SUPERGRAPH_CONFIG_FILE)),
      JWKS_URL: envSchemas.url().default('http://127.0.0.1:4002/.well-known/jwks.json'),
      JWT_ISSUER: z.string().min(1).default('meridian-auth'),
      JWT_AUDIENCE: z.string().min(1).default('meridian'),
      WS_CONNECTION_INIT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
      WS_KEEPALIVE_MS: z.coerce.number().int().min(0).max(300_000).default(12_000),
      MAX_SUBSCRIPTIONS_PER_CONNECTION: z.coerce.number().int().min(1).default(50),
      MAX_SUBSCRIPTIONS_PER_USER: z.coerce.number().int().min(1).default(200),
      SUBSCRIBER_MAX_QUEUED_EVENTS: z.coerce.number().int().min(1).default(1_000),
      NODE_ENV: envSchemas.nodeEnv(),
      LOG_LEVEL: envSchemas.logLevel(),
      ...telemetryShape(),
    },
    env,
  );
  return {
    port: parsed.GATEWAY_PORT,
    host: parsed.GATEWAY_HOST,
    supergraphPath: parsed.SUPERGRAPH_PATH,
    supergraphConfigPath: parsed.SUPERGRAPH_CONFIG_PATH,
    tokens: { jwksUrl: parsed.JWKS_URL, issuer: parsed.JWT_ISSUER, audience: parsed.JWT_AUDIENCE },
    webSocketLimits: { connectionInitTimeoutMs: parsed.WS_CONNECTION_INIT_TIMEOUT_MS, keepAliveMs: parsed.WS_KEEPALIVE_MS },
    subscriptionLimits: {
      maxSubscriptionsPerConnection: parsed.MAX_SUBSCRIPTIONS_PER_CONNECTION,
      maxSubscriptionsPerUser: parsed.MAX_SUBSCRIPTIONS_PER_USER,
    },
    maxQueuedPerSubscriber: parsed.SUBSCRIBER_MAX_QUEUED_EVENTS,
    production: parsed.NODE_ENV === 'production',
    logLevel: parsed.LOG_LEVEL,
    telemetry: telemetryConfig(parsed),
    /** Routing URL overrides (<NAME>_SUBGRAPH_URL) are read from here. */
    env,
  };
}

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;
