// Types only at the top: the database driver, Prisma's runtime and the event bridge are loaded
// when a subgraph service starts, so processes that import this package for its HTTP and
// observability parts (the gateway) never hold them (~16 MB of heap).
import type { DatabaseAdapter } from '@meridian/database';
import type { EventBus, OutboxRelay, RawSqlClient, TransactionRunner } from '@meridian/event-bridge';
import type { DomainEvent } from '@meridian/domain-events';
import { createTokenVerifier, type TokenVerifier } from '@meridian/tokens';
import { DEFAULT_JWKS_URL, type ServiceConfig } from './config';
import { startWithCleanup, type ServiceHandle, type ShutdownStack } from './lifecycle';
import { createLogger, type Logger } from './logger';
import { observeServiceRuntime } from './runtimeMetrics';
import { initTracing } from '@meridian/observability';
import type { SubgraphServer } from './subgraph';
import { createRedisReadinessCheck } from './redisReadiness';

export type PlatformEventBus = EventBus<DomainEvent>;

/** What every service's Prisma client offers the runtime (outbox relay, readiness, shutdown). */
export type ServicePrisma = TransactionRunner<RawSqlClient> & RawSqlClient & { $disconnect(): Promise<void> };

export interface ServiceWiring<TPrisma> {
  prisma: TPrisma;
  bus: PlatformEventBus;
  relay: OutboxRelay;
  verifier: TokenVerifier;
  logger: Logger;
  /** Register stop actions (event subscriptions...) here; they run in reverse order. */
  stack: ShutdownStack;
}

export interface StartSubgraphServiceOptions<TPrisma extends ServicePrisma> {
  config: ServiceConfig;
  /** Shared bus (embedded mode); when absent one is created from the config and owned. */
  bus?: PlatformEventBus;
  logger?: Logger;
  createPrisma: (adapter: DatabaseAdapter) => TPrisma;
  /** Builds the subgraph (and subscribes its event handlers); the runtime makes it listen. */
  build: (wiring: ServiceWiring<TPrisma>) => Promise<SubgraphServer> | SubgraphServer;
}

/**
 * The start-up sequence every subgraph shares: database (migrated at start when embedded;
 * PostgreSQL is migrated by `npm run db:migrate`), Prisma, outbox relay, token verifier,
 * HTTP. Anything started is stopped again, in reverse order, on stop or on a failed start.
 */
export function startSubgraphService<TPrisma extends ServicePrisma>(
  options: StartSubgraphServiceOptions<TPrisma>,
): Promise<ServiceHandle> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.service, config.logLevel);
  // Process-wide; the first service of a process installs it (the launcher may have already).
  initTracing({ serviceName: config.telemetry.serviceName ?? config.service, ...config.telemetry });
  return startWithCleanup(async (stack) => {
    const [{ openDatabase }, { createOutboxRelay }, { createPlatformEventBus }] = await Promise.all([
      import('@meridian/database'),
      import('@meridian/event-bridge'),
      import('@meridian/domain-events'),
    ]);
    let bus = options.bus;
    if (!bus) {
      const owned = createPlatformEventBus({
        redisUrl: config.redisUrl,
        streamPrefix: config.eventStreamPrefix,
        logger,
      });
      stack.defer('event bus', () => owned.close());
      bus = owned;
    }
    const database = await openDatabase({ service: config.service, ...config.database });
    stack.defer('database', () => database.close());
    if (database.kind === 'pglite') await database.migrate();
    const prisma = options.createPrisma(database.adapter);
    stack.defer('prisma', () => prisma.$disconnect());
    const relay = createOutboxRelay({ prisma, bus, logger });
    stack.defer('outbox relay', async () => {
      // Shutdown publishes what is committed but not yet published, within half the shutdown
      // bound (what is left is published by another replica or at the next start).
      const flushed = await withTimeout(relay.flush(), config.shutdown.timeoutMs / 2).catch((error: Error) => {
        logger.warn({ err: error }, 'outbox not flushed on shutdown; pending rows are published later');
        return 0;
      });
      if (flushed > 0) logger.info({ flushed }, 'outbox flushed on shutdown');
      await relay.stop();
    });
    let ownUrl = '';
    const verifier = createTokenVerifier({
      // The auth service verifies its own tokens through its own JWKS unless told otherwise.
      jwksUrl: () => config.tokens.jwksUrl ?? (config.service === 'auth' ? `${ownUrl}/.well-known/jwks.json` : DEFAULT_JWKS_URL),
      issuer: config.tokens.issuer,
      audience: config.tokens.audience,
    });
    const server = await options.build({ prisma, bus, relay, verifier, logger, stack });
    server.readiness.setTimeoutMs(config.readinessTimeoutMs);
    if (config.redisUrl) {
      const redisCheck = createRedisReadinessCheck(config.redisUrl);
      stack.defer('redis readiness', () => redisCheck.close());
      server.readiness.add('redis', redisCheck.check);
    }
    stack.defer('http', () => server.close());
    observeServiceRuntime(server.metrics, { prisma, database });
    const running = await server.listen(config.port, config.host);
    ownUrl = running.url;
    logger.info({ url: `${running.url}/graphql` }, `${config.service} subgraph ready`);
    return {
      name: config.service,
      url: running.url,
      shutdownTimeoutMs: config.shutdown.timeoutMs,
      readiness: server.readiness,
      stop: async () => {
        // Not ready at once; keep serving while load balancers notice, then drain and stop.
        server.readiness.drain();
        if (config.shutdown.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.shutdown.delayMs));
        await stack.stop();
      },
    };
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
