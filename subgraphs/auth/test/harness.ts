/**
 * Test wiring of the auth service (the same parts as src/service.ts, with the PrismaClient kept
 * so tests can look at what was stored) next to a real user service, on one event bus:
 * in memory, or Redis Streams under a prefix of this file's own when TEST_REDIS_URL is set.
 */
import { randomUUID } from 'node:crypto';
import { createTestDatabase, openDatabase } from '@meridian/database';
import { createPlatformEventBus, type DomainEvent } from '@meridian/domain-events';
import { createOutboxRelay, type EventBus } from '@meridian/event-bridge';
import { createShutdownStack } from '@meridian/service-kit';
import { captureLogs, deleteRedisKeys, eventually, openTestDatabase, type CapturedLogs } from '@meridian/testing';
import { createTokenVerifier } from '@meridian/tokens';
import { loadUserConfig, startUserService } from '@meridian/user-subgraph';
import { PrismaClient } from '../src/generated/prisma/client';
import { loadAuthConfig } from '../src/config';
import { JWKS_PATH } from '../src/server';
import { buildAuthSubgraph } from '../src/service';
import type { Clock } from '../src/domain/clock';
import type { PasswordResetMessage } from '../src/domain/authService';

/** Real time plus an offset the test moves forward: backoff and expiries without sleeping. */
export interface TestClock extends Clock {
  advance(ms: number): void;
}

export function createTestClock(): TestClock {
  let offset = 0;
  return {
    now: () => new Date(Date.now() + offset),
    advance(ms) {
      offset += ms;
    },
  };
}

export interface AuthPlatform {
  authUrl: string;
  userUrl: string;
  jwksUrl: string;
  issuer: string;
  audience: string;
  /** The auth service's database. */
  prisma: PrismaClient;
  bus: EventBus<DomainEvent>;
  logs: CapturedLogs;
  clock: TestClock;
  /**
   * Password-reset messages the service handed to the notification channel, one per
   * `auth.password-reset-requested` row of its outbox, oldest first (never logged). The token is
   * taken from the event as delivered on the bus: published rows no longer hold it.
   */
  resetMessages(): Promise<PasswordResetMessage[]>;
  /** The service's outbox rows of one event type, oldest first. */
  outbox(type: string): Promise<{ id: string; aggregateId: string; payload: Record<string, any> }[]>;
  stop(): Promise<void>;
}

export async function startAuthPlatform(name: string, options: { env?: Record<string, string> } = {}): Promise<AuthPlatform> {
  const stack = createShutdownStack();
  try {
    const logs = captureLogs();
    const redisUrl = process.env.TEST_REDIS_URL || undefined;
    const streamPrefix = `test:${name}:${process.pid}:${randomUUID()}`;
    const bus = createPlatformEventBus({ redisUrl, streamPrefix, logger: logs.logger.child({ name: 'event-bridge' }) });
    stack.defer('bus', () => bus.close());
    if (redisUrl) stack.defer('redis keys', () => deleteRedisKeys(redisUrl, streamPrefix));

    // Auth, wired as src/service.ts does it.
    const config = loadAuthConfig({ AUTH_PORT: '0', DATA_DIR: ':memory:', LOG_LEVEL: 'trace', ...options.env });
    const clock = createTestClock();
    const auth = await openTestDatabase('auth');
    stack.defer('auth database', () => auth.close());
    const prisma = new PrismaClient({ adapter: auth.adapter });
    stack.defer('auth prisma', () => prisma.$disconnect());
    const authLogger = logs.logger.child({ name: 'auth' });
    const relay = createOutboxRelay({ prisma, bus, logger: authLogger });
    stack.defer('auth relay', () => relay.stop());
    let authUrl = '';
    const verifier = createTokenVerifier({ jwksUrl: () => `${authUrl}${JWKS_PATH}`, issuer: config.tokens.issuer, audience: config.tokens.audience });
    // The same wiring as startAuthService, on a database this harness owns (to inspect rows).
    const server = await buildAuthSubgraph({ prisma, bus, relay, verifier, logger: authLogger, stack }, config, { clock });
    stack.defer('auth http', () => server.close());
    const outbox = async (type: string) =>
      (await prisma.outboxEvent.findMany({ where: { type }, orderBy: { id: 'asc' } })).map((row) => ({
        id: row.id,
        aggregateId: row.aggregateId,
        payload: row.payload as Record<string, any>,
      }));
    authUrl = (await server.listen(0)).url;
    // What the notification service receives: the only place a reset token lives once published.
    const delivered = new Map<string, Record<string, any>>();
    const capture = await bus.subscribe({
      group: `test-reset-capture-${randomUUID()}`,
      types: ['auth.password-reset-requested'],
      handler: async (event) => {
        delivered.set(event.id, event.payload as Record<string, any>);
      },
    });
    stack.defer('reset capture', () => capture.close());

    // The real user service, trusting the auth service's JWKS.
    // startUserService migrates an embedded database itself; a PostgreSQL one is migrated here, as a deploy would.
    const userDb = await createTestDatabase('user');
    stack.defer('user test database', () => userDb.drop());
    if (userDb.databaseUrl !== undefined) {
      const database = await openDatabase({ service: 'user', databaseUrl: userDb.databaseUrl });
      await database.migrate();
      await database.close();
    }
    const userService = await startUserService({
      config: loadUserConfig({
        USER_PORT: '0',
        DATA_DIR: ':memory:',
        ...(userDb.databaseUrl !== undefined ? { USER_DATABASE_URL: userDb.databaseUrl } : {}),
        JWKS_URL: `${authUrl}${JWKS_PATH}`,
      }),
      bus,
      logger: logs.logger.child({ name: 'user' }),
    });
    stack.defer('user service', () => userService.stop());

    return {
      authUrl: `${authUrl}/graphql`,
      userUrl: `${userService.url}/graphql`,
      jwksUrl: `${authUrl}${JWKS_PATH}`,
      issuer: config.tokens.issuer,
      audience: config.tokens.audience,
      prisma,
      bus,
      logs,
      clock,
      outbox,
      async resetMessages() {
        const rows = await outbox('auth.password-reset-requested');
        const payloads = await eventually(() =>
          rows.map((row) => {
            const payload = row.payload.token ? row.payload : delivered.get(row.id);
            if (!payload) throw new Error(`reset event ${row.id} not delivered yet`);
            return payload;
          }),
        );
        return payloads.map((payload) => ({ userId: payload.userId, email: payload.email, token: payload.token, expiresAt: new Date(payload.expiresAt) }));
      },
      stop: () => stack.stop(),
    };
  } catch (error) {
    await stack.stop().catch(() => undefined);
    throw error;
  }
}
