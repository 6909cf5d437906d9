import { availableParallelism } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { envSchemas, parseEnv, telemetryConfig, telemetryShape } from '@meridian/service-kit';
import { findRepoRoot, SUPERGRAPH_CONFIG_FILE, SUPERGRAPH_FILE } from '@meridian/composition';
import type { ProtectionOptions } from './protection';
import { parseTrustProxy } from './protection';

const positiveInt = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

/** Every variable is documented in apps/gateway/README.md and .env.example. */
export function loadGatewayConfig(env: Record<string, string | undefined> = process.env) {
  const root = findRepoRoot();
  const parsed = parseEnv(
    {
      GATEWAY_PORT: envSchemas.port(4000),
      GATEWAY_HOST: z.string().default('127.0.0.1'),
      // Processes serving the gateway's port (node:cluster); `auto`: one per core.
      GATEWAY_WORKERS: z
        .string()
        .default('1')
        .refine((value) => value === 'auto' || /^[1-9][0-9]?$/.test(value), 'must be `auto` or a whole number from 1 to 99'),
      SUPERGRAPH_PATH: z.string().default(path.join(root, SUPERGRAPH_FILE)),
      SUPERGRAPH_CONFIG_PATH: z.string().default(path.join(root, SUPERGRAPH_CONFIG_FILE)),
      JWKS_URL: envSchemas.url().default('http://127.0.0.1:4002/.well-known/jwks.json'),
      JWT_ISSUER: z.string().min(1).default('meridian-auth'),
      JWT_AUDIENCE: z.string().min(1).default('meridian'),
      WS_CONNECTION_INIT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
      WS_KEEPALIVE_MS: z.coerce.number().int().min(0).max(300_000).default(12_000),
      MAX_SUBSCRIPTIONS_PER_CONNECTION: z.coerce.number().int().min(1).default(50),
      MAX_SUBSCRIPTIONS_PER_USER: z.coerce.number().int().min(1).default(200),
      SUBSCRIPTION_ACCOUNT_CHECK_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
      SUBSCRIBER_MAX_QUEUED_EVENTS: z.coerce.number().int().min(1).default(1_000),
      // Protection (docs/operations.md, "Protection at the gateway").
      REDIS_URL: envSchemas.optionalUrl(),
      GATEWAY_REDIS_PREFIX: z.string().min(1).default('meridian:gateway:'),
      // Proxies in front of the gateway (Express `trust proxy`): a hop count or addresses/CIDRs; unset: none.
      TRUST_PROXY: z.string().optional().transform((value, ctx) => {
        try {
          return parseTrustProxy(value);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: (error as Error).message });
          return z.NEVER;
        }
      }),
      MAX_REQUEST_BODY_BYTES: positiveInt(102_400),
      MAX_QUERY_DEPTH: positiveInt(6),
      MAX_ALIASES: z.coerce.number().int().min(0).default(15),
      MAX_DIRECTIVES: z.coerce.number().int().min(0).default(50),
      MAX_TOKENS: positiveInt(1_000),
      MAX_QUERY_COST: positiveInt(5_000),
      MAX_QUERY_COMPLEXITY: z.coerce.number().int().min(0).default(0),
      COST_DEFAULT_LIST_SIZE: positiveInt(10),
      RATE_LIMIT_POINTS: positiveInt(600),
      RATE_LIMIT_WINDOW_SECONDS: positiveInt(60),
      AUTH_RATE_LIMIT_POINTS: positiveInt(10),
      AUTH_RATE_LIMIT_WINDOW_SECONDS: positiveInt(60),
      HTTP_BATCH_MAX_SIZE: z.coerce.number().int().min(0).max(100).default(0),
      CORS_ORIGINS: z
        .string()
        .optional()
        .transform((value) => value?.split(',').map((origin) => origin.trim()).filter(Boolean))
        .refine((origins) => !origins || origins.every((origin) => origin === '*' ? false : /^https?:\/\/[^/]+$/.test(origin)), 'must be comma-separated origins like https://app.example.com (scheme and host, no path, no *)'),
      TRUSTED_DOCUMENTS_PATH: z.string().min(1).optional(),
      PERSISTED_QUERY_TTL_SECONDS: positiveInt(86_400),
      GATEWAY_REQUEST_TIMEOUT_MS: envSchemas.durationMs(20_000, 100),
      SUBGRAPH_TIMEOUT_MS: envSchemas.durationMs(15_000, 50),
      SUBGRAPH_RETRIES: z.coerce.number().int().min(0).max(5).default(2),
      SUBGRAPH_RETRY_BACKOFF_MS: envSchemas.durationMs(25, 0, 5_000),
      SUBGRAPH_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(10_000).default(128),
      CIRCUIT_ERROR_THRESHOLD_PERCENT: z.coerce.number().min(1).max(100).default(50),
      CIRCUIT_VOLUME_THRESHOLD: z.coerce.number().int().min(1).default(5),
      CIRCUIT_RESET_TIMEOUT_MS: envSchemas.durationMs(5_000, 100),
      CIRCUIT_WINDOW_MS: envSchemas.durationMs(10_000, 1_000),
      SUPERGRAPH_WATCH: z.enum(['true', 'false']).default('true'),
      // Known operations over POST answered without Express and Apollo Server's HTTP pipeline (src/http/directPath.ts).
      GATEWAY_DIRECT_PATH: z.enum(['true', 'false']).default('true'),
      SHUTDOWN_TIMEOUT_MS: envSchemas.durationMs(25_000, 1_000),
      SHUTDOWN_DELAY_MS: envSchemas.durationMs(0, 0, 60_000),
      READINESS_TIMEOUT_MS: envSchemas.durationMs(2_000, 100, 60_000),
      NODE_ENV: envSchemas.nodeEnv(),
      LOG_LEVEL: envSchemas.logLevel(),
      ...telemetryShape(),
    },
    env,
  );
  // A subgraph that times out must leave the gateway time to answer with partial data.
  if (parsed.SUBGRAPH_TIMEOUT_MS >= parsed.GATEWAY_REQUEST_TIMEOUT_MS) {
    throw new Error(
      `Invalid configuration:\n  SUBGRAPH_TIMEOUT_MS: must be shorter than GATEWAY_REQUEST_TIMEOUT_MS (${parsed.SUBGRAPH_TIMEOUT_MS} >= ${parsed.GATEWAY_REQUEST_TIMEOUT_MS})`,
    );
  }
  if (parsed.SHUTDOWN_DELAY_MS >= parsed.SHUTDOWN_TIMEOUT_MS) {
    throw new Error(
      `Invalid configuration:\n  SHUTDOWN_DELAY_MS: must be shorter than SHUTDOWN_TIMEOUT_MS (${parsed.SHUTDOWN_DELAY_MS} >= ${parsed.SHUTDOWN_TIMEOUT_MS})`,
    );
  }
  return {
    port: parsed.GATEWAY_PORT,
    host: parsed.GATEWAY_HOST,
    workers: parsed.GATEWAY_WORKERS === 'auto' ? availableParallelism() : Number(parsed.GATEWAY_WORKERS),
    supergraphPath: parsed.SUPERGRAPH_PATH,
    supergraphConfigPath: parsed.SUPERGRAPH_CONFIG_PATH,
    tokens: { jwksUrl: parsed.JWKS_URL, issuer: parsed.JWT_ISSUER, audience: parsed.JWT_AUDIENCE },
    webSocketLimits: { connectionInitTimeoutMs: parsed.WS_CONNECTION_INIT_TIMEOUT_MS, keepAliveMs: parsed.WS_KEEPALIVE_MS },
    subscriptionLimits: {
      maxSubscriptionsPerConnection: parsed.MAX_SUBSCRIPTIONS_PER_CONNECTION,
      maxSubscriptionsPerUser: parsed.MAX_SUBSCRIPTIONS_PER_USER,
      accountCheckIntervalMs: parsed.SUBSCRIPTION_ACCOUNT_CHECK_MS,
    },
    maxQueuedPerSubscriber: parsed.SUBSCRIBER_MAX_QUEUED_EVENTS,
    protection: {
      redisUrl: parsed.REDIS_URL,
      redisKeyPrefix: parsed.GATEWAY_REDIS_PREFIX,
      trustProxy: parsed.TRUST_PROXY,
      maxBodyBytes: parsed.MAX_REQUEST_BODY_BYTES,
      limits: {
        maxDepth: parsed.MAX_QUERY_DEPTH,
        maxAliases: parsed.MAX_ALIASES,
        maxDirectives: parsed.MAX_DIRECTIVES,
        maxTokens: parsed.MAX_TOKENS,
        maxCost: parsed.MAX_QUERY_COST,
        maxComplexity: parsed.MAX_QUERY_COMPLEXITY,
        defaultListSize: parsed.COST_DEFAULT_LIST_SIZE,
      },
      rateLimits: {
        general: { points: parsed.RATE_LIMIT_POINTS, windowSeconds: parsed.RATE_LIMIT_WINDOW_SECONDS },
        auth: { points: parsed.AUTH_RATE_LIMIT_POINTS, windowSeconds: parsed.AUTH_RATE_LIMIT_WINDOW_SECONDS },
      },
      maxBatchSize: parsed.HTTP_BATCH_MAX_SIZE || undefined,
      corsOrigins: parsed.CORS_ORIGINS,
      trustedDocumentsPath: parsed.TRUSTED_DOCUMENTS_PATH,
      persistedQueryTtlSeconds: parsed.PERSISTED_QUERY_TTL_SECONDS,
    } satisfies Partial<ProtectionOptions>,
    requestTimeoutMs: parsed.GATEWAY_REQUEST_TIMEOUT_MS,
    subgraphClient: {
      timeoutMs: parsed.SUBGRAPH_TIMEOUT_MS,
      retries: parsed.SUBGRAPH_RETRIES,
      retryBackoffMs: parsed.SUBGRAPH_RETRY_BACKOFF_MS,
      maxConnections: parsed.SUBGRAPH_MAX_CONNECTIONS,
      circuit: {
        errorThresholdPercentage: parsed.CIRCUIT_ERROR_THRESHOLD_PERCENT,
        volumeThreshold: parsed.CIRCUIT_VOLUME_THRESHOLD,
        resetTimeoutMs: parsed.CIRCUIT_RESET_TIMEOUT_MS,
        windowMs: parsed.CIRCUIT_WINDOW_MS,
      },
    },
    watchSupergraph: parsed.SUPERGRAPH_WATCH === 'true',
    directPath: parsed.GATEWAY_DIRECT_PATH === 'true',
    shutdown: { timeoutMs: parsed.SHUTDOWN_TIMEOUT_MS, delayMs: parsed.SHUTDOWN_DELAY_MS },
    readinessTimeoutMs: parsed.READINESS_TIMEOUT_MS,
    production: parsed.NODE_ENV === 'production',
    logLevel: parsed.LOG_LEVEL,
    telemetry: telemetryConfig(parsed),
    /** Routing URL overrides (<NAME>_SUBGRAPH_URL) are read from here. */
    env,
  };
}

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;
