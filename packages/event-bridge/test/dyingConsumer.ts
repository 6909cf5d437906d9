/**
 * Child process of the reclaim test: joins a group and never finishes a handler, so every
 * event delivered to it stays pending until the parent kills it.
 */
import { createRedisEventBus } from '../src/index';
import { testRegistry } from './fixtures';

const options = JSON.parse(process.argv[2] ?? '{}') as {
  prefix: string;
  group: string;
  redisUrl: string;
  leaseMs: number;
  heartbeatMs: number;
  claimIdleMs: number;
  blockMs: number;
};

async function main() {
  const bus = createRedisEventBus({
    registry: testRegistry,
    redis: options.redisUrl,
    streamPrefix: options.prefix,
    partitions: 4,
    leaseMs: options.leaseMs,
    heartbeatMs: options.heartbeatMs,
    claimIdleMs: options.claimIdleMs,
    blockMs: options.blockMs,
  });
  await bus.subscribe({
    group: options.group,
    types: ['shop.order-placed'],
    consumerName: 'victim',
    handler: () => new Promise<void>(() => undefined), // hangs until the process is killed
  });
  process.stdout.write('ready\n');
}

void main();
