import { Redis } from 'ioredis';

/**
 * A readiness check for Redis: PING on a connection of its own (so a busy or blocked bus
 * connection does not hide the answer). It never queues commands while disconnected: when
 * Redis is away the check fails at once, naming why.
 */
export function createRedisReadinessCheck(url: string) {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectionName: 'readiness',
    retryStrategy: () => 1_000,
  });
  let lastError: Error | undefined;
  redis.on('error', (error: Error) => {
    lastError = error;
  });
  redis.on('ready', () => {
    lastError = undefined;
  });
  redis.connect().catch(() => undefined);
  return {
    async check() {
      if (redis.status !== 'ready') throw new Error(`Redis is not connected (${lastError?.message ?? redis.status})`);
      const answer = await redis.ping();
      if (answer !== 'PONG') throw new Error(`Redis answered ${answer} to PING`);
    },
    close: async () => {
      redis.disconnect();
    },
  };
}
