import { randomUUID } from 'node:crypto';
import { createTestDatabase, openDatabase } from '@meridian/database';

export interface TestMode {
  /** "embedded" (PGlite in memory + in-memory bus) or "distributed" (PostgreSQL + Redis). */
  name: 'embedded' | 'distributed';
}

/**
 * The modes integration suites run in: always embedded; distributed too when
 * TEST_POSTGRES_URL and TEST_REDIS_URL are set (CI sets both).
 */
export function getTestModes(): TestMode[] {
  const modes: TestMode[] = [{ name: 'embedded' }];
  if (process.env.TEST_POSTGRES_URL && process.env.TEST_REDIS_URL) modes.push({ name: 'distributed' });
  return modes;
}

export interface PreparedEnv {
  /** Variables for the services: ports 0, databases, bus. */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/**
 * Environment for one test file's private platform: every port 0, and either in-memory
 * databases, or fresh PostgreSQL databases (migrated) plus a Redis stream prefix of its own.
 */
export async function preparePlatformEnv(mode: TestMode, services: readonly string[] = ['auth', 'user', 'task', 'notification', 'analytics']): Promise<PreparedEnv> {
  const base: Record<string, string> = {
    AUTH_PORT: '0',
    USER_PORT: '0',
    TASK_PORT: '0',
    NOTIFICATION_PORT: '0',
    ANALYTICS_PORT: '0',
    GATEWAY_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    NODE_ENV: 'test',
    // Suites sign up and log in many users from one address: the gateway's auth budget would refuse them.
    AUTH_RATE_LIMIT_POINTS: '100000',
  };
  if (mode.name === 'embedded') return { env: { ...base, DATA_DIR: ':memory:' }, cleanup: async () => undefined };

  const databases = await Promise.all(services.map((service) => createTestDatabase(service)));
  const env: Record<string, string> = {
    ...base,
    REDIS_URL: process.env.TEST_REDIS_URL as string,
    EVENT_STREAM_PREFIX: `test:${randomUUID()}`,
    // Rate limits and persisted queries of this file's gateways, apart from every other run's.
    GATEWAY_REDIS_PREFIX: `test:${randomUUID()}:gateway:`,
  };
  for (const [index, service] of services.entries()) {
    const url = databases[index]?.databaseUrl;
    if (!url) throw new Error(`createTestDatabase(${service}) gave no PostgreSQL URL`);
    env[`${service.toUpperCase()}_DATABASE_URL`] = url;
    // In distributed mode migrations are a deployment step (npm run db:migrate), not a start-up one.
    const database = await openDatabase({ service, databaseUrl: url });
    await database.migrate();
    await database.close();
  }
  return {
    env,
    cleanup: async () => {
      await Promise.all(databases.map((database) => database.drop()));
    },
  };
}
