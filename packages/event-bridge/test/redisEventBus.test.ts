import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createRedisEventBus, type RedisEventBusOptions } from '../src/index';
import { runEventBusContract } from './eventBusContract';
import { createMemoryLogger, eventually, placed, testRegistry, unique, type TestEvent } from './fixtures';

// Real Redis only: set TEST_REDIS_URL (e.g. redis://127.0.0.1:6379) to run these.
const redisUrl = process.env.TEST_REDIS_URL;
const describeRedis = redisUrl ? describe : describe.skip;
// One prefix per test file run: nothing shared with other files or earlier runs.
const filePrefix = `test:event-bridge:${process.pid}:${Date.now()}`;

// Short leases so rebalancing and reclaiming happen within a test.
const fastOptions = { leaseMs: 600, heartbeatMs: 100, claimIdleMs: 600, blockMs: 200 } as const;

function openBus(streamPrefix: string, extra: Partial<RedisEventBusOptions<TestEvent>> = {}) {
  return createRedisEventBus({
    registry: testRegistry,
    redis: redisUrl!,
    streamPrefix,
    partitions: 4,
    logger: createMemoryLogger(),
    ...fastOptions,
    ...extra,
  });
}

describeRedis('redis', () => {
  let admin: Redis;
  beforeAll(() => {
    admin = new Redis(redisUrl!);
  });
  afterAll(async () => {
    // Leave nothing behind in the shared Redis.
    const keys = await admin.keys(`${filePrefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  });

  runEventBusContract('redis', {
    partitions: 4,
    async open() {
      const prefix = `${filePrefix}:${unique('scope')}`;
      return { bus: openBus(prefix), peer: async () => openBus(prefix) };
    },
  });

  test('an entry that fails validation on consume goes to the dead letters, naming the field', async () => {
    const prefix = `${filePrefix}:${unique('invalid')}`;
    const bus = openBus(prefix, { partitions: 1 });
    try {
      const group = unique('strict');
      const handled: string[] = [];
      await bus.subscribe({ group, types: ['shop.order-placed'], handler: async (event) => void handled.push(event.id) });
      // A producer with an older/broken schema wrote this directly to the stream.
      const broken = { ...placed('o-1', 1), payload: { orderId: 'o-1' } };
      await admin.xadd(`${prefix}:stream:shop:0`, '*', 'type', broken.type, 'event', JSON.stringify(broken));
      const good = placed('o-1', 2);
      await bus.publish(good);
      await eventually(() => expect(handled).toEqual([good.id]));
      const dead = await bus.readDeadLetters(group);
      expect(dead).toHaveLength(1);
      expect(dead[0]!.error).toMatch(/shop\.order-placed.*payload\.seq/);
      expect(dead[0]!.event).toMatchObject({ id: broken.id });
      // Acknowledged: nothing stays pending for the group.
      const [pending] = (await admin.xpending(`${prefix}:stream:shop:0`, group)) as [number];
      expect(pending).toBe(0);
    } finally {
      await bus.close();
    }
  });

  test('publish trims each partition stream to the retention', async () => {
    const prefix = `${filePrefix}:${unique('trim')}`;
    const bus = openBus(prefix, { partitions: 1, retention: { maxLength: 50 } });
    try {
      for (let batch = 0; batch < 10; batch++) {
        await bus.publish(Array.from({ length: 100 }, (_, index) => placed('same-order', batch * 100 + index)));
      }
      // Approximate trimming (~) keeps whole macro nodes: bounded, but not exactly 50.
      expect(await admin.xlen(`${prefix}:stream:shop:0`)).toBeLessThan(300);
    } finally {
      await bus.close();
    }
  });

  test('a consumer that dies with unacked events: another member reclaims and handles them', async () => {
    const prefix = `${filePrefix}:${unique('crash')}`;
    const group = unique('survivors');
    const options = { prefix, group, redisUrl: redisUrl!, ...fastOptions };
    // The victim runs in its own process, takes every event and never acks, until SIGKILL.
    const victim: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', join(__dirname, 'dyingConsumer.ts'), JSON.stringify(options)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        victim.once('error', reject);
        victim.once('exit', (code) => reject(new Error(`victim exited early (${code})`)));
        victim.stdout!.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('ready')) resolve();
        });
      });
      const publisher = openBus(prefix);
      const events = Array.from({ length: 8 }, (_, index) => placed(unique('order'), index));
      await publisher.publish(events);
      const pendingCount = async () => {
        const counts = await Promise.all(
          [0, 1, 2, 3].map(async (p) => Number(((await admin.xpending(`${prefix}:stream:shop:${p}`, group)) as [number])[0])),
        );
        return counts.reduce((sum, count) => sum + count, 0);
      };
      // The victim has received events it will never ack (it is stuck in the first handler).
      await eventually(async () => expect(await pendingCount()).toBeGreaterThan(0), 15_000);
      victim.kill('SIGKILL');

      const handled: string[] = [];
      await publisher.subscribe({ group, types: ['shop.order-placed'], consumerName: 'rescuer', handler: async (event) => void handled.push(event.id) });
      await eventually(() => expect([...handled].sort()).toEqual(events.map((event) => event.id).sort()), 15_000);
      expect(new Set(handled).size).toBe(handled.length);
      expect(await pendingCount()).toBe(0);
      await publisher.close();
    } finally {
      victim.kill('SIGKILL');
    }
  });
});
