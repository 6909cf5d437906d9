import path from 'node:path';
import { z } from 'zod';

/**
 * Parses environment variables once, at the boundary. Throws one error that names every
 * offending variable, so a misconfigured container fails fast with a readable message.
 */
export function parseEnv<S extends z.ZodRawShape>(
  shape: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<z.ZodObject<S>> {
  const result = z.object(shape).safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const variable = issue.path.join('.');
    const value = env[variable];
    return `  ${variable}: ${issue.message}${value === undefined ? ' (not set)' : ''}`;
  });
  throw new Error(`Invalid configuration:\n${problems.join('\n')}`);
}

/** Common variable kinds, so every service spells them the same way. */
export const envSchemas = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  url: () =>
    z.string().refine((value) => {
      try {
        new URL(value);
        return true;
      } catch {
        return false;
      }
    }, 'must be an absolute URL'),
  optionalUrl: () => envSchemas.url().optional(),
  /** A duration in milliseconds, within bounds. */
  durationMs: (fallback: number, min = 0, max = 600_000) => z.coerce.number().int().min(min).max(max).default(fallback),
  nodeEnv: () => z.enum(['development', 'production', 'test']).default('development'),
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Root of the embedded databases: a path, or ":memory:" for throw-away in-memory databases. */
  dataDir: () => z.string().min(1).default('.data'),
};

export const IN_MEMORY = ':memory:';

/**
 * The embedded database directory of one service (`<DATA_DIR>/<service>`), absolute;
 * undefined means in memory.
 */
export function resolveServiceDataDir(dataDir: string, service: string): string | undefined {
  if (dataDir === IN_MEMORY) return undefined;
  return path.resolve(dataDir, service);
}

/** Tracing variables (every service and the gateway). Unset endpoint = nothing recorded or exported. */
export function telemetryShape() {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: envSchemas.optionalUrl(),
    OTEL_TRACES_SAMPLE_RATIO: z.coerce.number().min(0).max(1).default(1),
    OTEL_SERVICE_NAME: z.string().min(1).optional(),
  };
}

export interface TelemetryConfig {
  otlpEndpoint?: string;
  sampleRatio: number;
  /** `service.name` of exported spans; defaults to the service's own name. */
  serviceName?: string;
}

export function telemetryConfig(parsed: { OTEL_EXPORTER_OTLP_ENDPOINT?: string; OTEL_TRACES_SAMPLE_RATIO: number; OTEL_SERVICE_NAME?: string }): TelemetryConfig {
  return {
    ...(parsed.OTEL_EXPORTER_OTLP_ENDPOINT ? { otlpEndpoint: parsed.OTEL_EXPORTER_OTLP_ENDPOINT } : {}),
    sampleRatio: parsed.OTEL_TRACES_SAMPLE_RATIO,
    ...(parsed.OTEL_SERVICE_NAME ? { serviceName: parsed.OTEL_SERVICE_NAME } : {}),
  };
}

/** Variables every service reads, documented once in .env.example. */
const platformShape = {
  DATA_DIR: envSchemas.dataDir(),
  REDIS_URL: envSchemas.optionalUrl(),
  EVENT_STREAM_PREFIX: z.string().min(1).default('meridian:events'),
  JWKS_URL: envSchemas.optionalUrl(),
  JWT_ISSUER: z.string().min(1).default('meridian-auth'),
  JWT_AUDIENCE: z.string().min(1).default('meridian'),
  NODE_ENV: envSchemas.nodeEnv(),
  LOG_LEVEL: envSchemas.logLevel(),
  SHUTDOWN_TIMEOUT_MS: envSchemas.durationMs(25_000, 1_000),
  SHUTDOWN_DELAY_MS: envSchemas.durationMs(0, 0, 60_000),
  READINESS_TIMEOUT_MS: envSchemas.durationMs(2_000, 100, 60_000),
  ...telemetryShape(),
};

export const DEFAULT_JWKS_URL = 'http://127.0.0.1:4002/.well-known/jwks.json';

export interface ServiceConfig {
  service: string;
  port: number;
  host: string;
  /** PostgreSQL URL, else an embedded PGlite in dataDir (undefined = in memory). */
  database: { databaseUrl?: string; dataDir?: string };
  /** Redis for events in distributed mode; absent = in-memory bus. */
  redisUrl?: string;
  eventStreamPrefix: string;
  /** jwksUrl undefined = DEFAULT_JWKS_URL, except for the auth service, which then uses its own. */
  tokens: { jwksUrl?: string; issuer: string; audience: string };
  production: boolean;
  logLevel: string;
  /**
   * SIGTERM: readiness turns 503 at once, traffic keeps being served for `delayMs` (load balancers
   * notice), then the service drains; the process exits after `timeoutMs` at the latest.
   */
  shutdown: { timeoutMs: number; delayMs: number };
  /** Bound of each readiness check (database, Redis). */
  readinessTimeoutMs: number;
  telemetry: TelemetryConfig;
}

/**
 * Parses `<SERVICE>_PORT`, `<SERVICE>_HOST`, `<SERVICE>_DATABASE_URL` and the platform-wide
 * variables; `extra` adds service-specific ones.
 */
export function loadServiceConfig<S extends z.ZodRawShape = {}>(
  service: string,
  defaultPort: number,
  env: Record<string, string | undefined> = process.env,
  extra?: S,
): ServiceConfig & { extra: z.infer<z.ZodObject<S>> } {
  const prefix = service.toUpperCase();
  const parsed = parseEnv(
    {
      ...platformShape,
      [`${prefix}_PORT`]: envSchemas.port(defaultPort),
      [`${prefix}_HOST`]: z.string().min(1).default('127.0.0.1'),
      [`${prefix}_DATABASE_URL`]: envSchemas.optionalUrl(),
      ...(extra ?? {}),
    },
    env,
  ) as Record<string, unknown>;
  const platform = parsed as z.infer<z.ZodObject<typeof platformShape>>;
  return {
    service,
    port: parsed[`${prefix}_PORT`] as number,
    host: parsed[`${prefix}_HOST`] as string,
    database: {
      databaseUrl: parsed[`${prefix}_DATABASE_URL`] as string | undefined,
      dataDir: resolveServiceDataDir(platform.DATA_DIR, service),
    },
    redisUrl: platform.REDIS_URL,
    eventStreamPrefix: platform.EVENT_STREAM_PREFIX,
    tokens: { jwksUrl: platform.JWKS_URL, issuer: platform.JWT_ISSUER, audience: platform.JWT_AUDIENCE },
    production: platform.NODE_ENV === 'production',
    logLevel: platform.LOG_LEVEL,
    shutdown: { timeoutMs: platform.SHUTDOWN_TIMEOUT_MS, delayMs: platform.SHUTDOWN_DELAY_MS },
    readinessTimeoutMs: platform.READINESS_TIMEOUT_MS,
    telemetry: telemetryConfig(platform),
    extra: parsed as z.infer<z.ZodObject<S>>,
  };
}
