import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import {
  OUTBOX_INBOX_TABLES_SQL,
  createInMemoryEventBus,
  createOutboxRelay,
  handleBatchOnce,
  handleOnce,
  writeOutbox,
  type EventBus,
} from '../src/index';
import { PrismaClient } from './generated/prisma/client';
import { createMemoryLogger, eventually, placed, testRegistry, unique, type TestEvent } from './fixtures';

// The outbox and inbox tables (what a migration of test/prisma/schema.prisma creates), and the demo's.
const SCHEMA_SQL = `${OUTBOX_INBOX_TABLES_SQL}
CREATE TABLE demo_tasks (id TEXT PRIMARY KEY, title TEXT NOT NULL);
CREATE TABLE demo_counters (id TEXT PRIMARY KEY, value INTEGER NOT NULL DEFAULT 0);
`;

let pglite: PGlite;
let prisma: PrismaClient;
const buses: EventBus<TestEvent>[] = [];

beforeAll(async () => {
  pglite = new PGlite();
  await pglite.exec(SCHEMA_SQL);
  prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
});

afterAll(async () => {
  await prisma.$disconnect();
  await pglite.close();
});

afterEach(async () => {
  for (const bus of buses.splice(0)) await bus.close();
});

function openBus() {
  const bus = createInMemoryEventBus({ registry: testRegistry, logger: createMemoryLogger() });
  buses.push(bus);
  return bus;
}

async function collect(bus: EventBus<TestEvent>) {
  const received: TestEvent[] = [];
  await bus.subscribe({ group: unique('collector'), types: ['shop.order-placed'], handler: async (event) => void received.push(event) });
  return received;
}

/** Creates a task and stages its event atomically, as a service's use case would. */
async function createTask(title: string, fail = false) {
  const event = placed(unique('order'), 1, title);
  await prisma.$transaction(async (tx) => {
    await tx.demoTask.create({ data: { id: event.aggregateId, title } });
    await writeOutbox(tx, [event]);
    if (fail) throw new Error('validation failed after the write');
  });
  return event;
}

test('a rolled-back transaction publishes nothing', async () => {
  const bus = openBus();
  const received = await collect(bus);
  const relay = createOutboxRelay({ prisma, bus, pollIntervalMs: 50 });
  try {
    await expect(createTask('never', true)).rejects.toThrow('validation failed');
    const committed = await createTask('kept');
    relay.notify();
    await eventually(() => expect(received.map((event) => event.id)).toEqual([committed.id]));
    expect(await prisma.outboxEvent.count({ where: { publishedAt: null } })).toBe(0);
    expect(await prisma.demoTask.count({ where: { title: 'never' } })).toBe(0);
  } finally {
    await relay.stop();
  }
});

test('a committed change whose process crashed before publishing is published when a relay starts again', async () => {
  const bus = openBus();
  const received = await collect(bus);
  // The "crashed" relay: publishing fails (process died mid-publish), so nothing is marked.
  const crashing = createOutboxRelay({
    prisma,
    bus: { publish: async () => Promise.reject(new Error('process killed')) },
    pollIntervalMs: 10_000,
    logger: createMemoryLogger(),
  });
  const event = await createTask('survives a crash');
  await expect(crashing.flush()).rejects.toThrow('process killed');
  await crashing.stop();
  const row = await prisma.outboxEvent.findUniqueOrThrow({ where: { id: event.id } });
  expect(row.publishedAt).toBeNull();
  expect(row.attempts).toBeGreaterThanOrEqual(1); // failed attempts are counted

  const restarted = createOutboxRelay({ prisma, bus, pollIntervalMs: 50 });
  try {
    await eventually(() => expect(received.map((e) => e.id)).toEqual([event.id]));
    expect(received[0]).toEqual(event);
    await eventually(async () =>
      expect((await prisma.outboxEvent.findUniqueOrThrow({ where: { id: event.id } })).publishedAt).not.toBeNull(),
    );
  } finally {
    await restarted.stop();
  }
});

test('a crash between publish and mark re-publishes, and handleOnce applies the effect exactly once', async () => {
  const bus = openBus();
  const group = unique('counter');
  const counterId = unique('counter');
  await prisma.demoCounter.create({ data: { id: counterId } });
  let deliveries = 0;
  await bus.subscribe({
    group,
    types: ['shop.order-placed'],
    handler: async (event) => {
      deliveries++;
      await handleOnce(prisma, group, event, (tx) => tx.demoCounter.update({ where: { id: counterId }, data: { value: { increment: 1 } } }));
    },
  });
  // Publishes, then "dies" before the rows are marked: the batch will be published again.
  const dying = createOutboxRelay({
    prisma,
    bus: {
      publish: async (events) => {
        await bus.publish(events);
        throw new Error('killed after publish');
      },
    },
    pollIntervalMs: 10_000,
    logger: createMemoryLogger(),
  });
  const event = await createTask('published twice');
  await expect(dying.flush()).rejects.toThrow('killed after publish');
  await dying.stop();
  const relay = createOutboxRelay({ prisma, bus, pollIntervalMs: 50 });
  try {
    await eventually(async () => {
      expect((await prisma.outboxEvent.findUniqueOrThrow({ where: { id: event.id } })).publishedAt).not.toBeNull();
      expect(deliveries).toBeGreaterThanOrEqual(2); // at least once: the bus saw it again
    });
    const counter = await prisma.demoCounter.findUniqueOrThrow({ where: { id: counterId } });
    expect(counter.value).toBe(1);
    expect(await prisma.inboxEvent.count({ where: { group, eventId: event.id } })).toBe(1);
  } finally {
    await relay.stop();
  }
});

test('handleOnce skips concurrent and later duplicates, and a failed handler can run again', async () => {
  const counterId = unique('counter');
  await prisma.demoCounter.create({ data: { id: counterId } });
  const event = placed(unique('order'), 1);
  const increment = () =>
    handleOnce(prisma, 'dup-group', event, (tx) => tx.demoCounter.update({ where: { id: counterId }, data: { value: { increment: 1 } } }));
  // A failure rolls back the inbox row too: the event is not "handled".
  await expect(
    handleOnce(prisma, 'dup-group', event, async () => {
      throw new Error('boom');
    }),
  ).rejects.toThrow('boom');
  const results = await Promise.all([increment(), increment(), increment()]);
  expect(results.filter((result) => result.handled)).toHaveLength(1);
  expect((await increment()).handled).toBe(false);
  // Another group handles the same event independently.
  expect((await handleOnce(prisma, 'other-group', event, async () => 'done'))).toEqual({ handled: true, result: 'done' });
  expect((await prisma.demoCounter.findUniqueOrThrow({ where: { id: counterId } })).value).toBe(1);
});

test('handleBatchOnce: one transaction per batch, fn gets only fresh events in order, a failure records nothing', async () => {
  const counterId = unique('counter');
  await prisma.demoCounter.create({ data: { id: counterId } });
  const events = Array.from({ length: 5 }, (_, seq) => placed(unique('order'), seq));
  const apply = (batch: readonly ReturnType<typeof placed>[]) =>
    handleBatchOnce(prisma, 'batch-group', batch, async (tx, fresh) => {
      await tx.demoCounter.update({ where: { id: counterId }, data: { value: { increment: fresh.length } } });
      return fresh.map((event) => event.payload.seq);
    });
  await expect(
    handleBatchOnce(prisma, 'batch-group', events, async () => {
      throw new Error('boom');
    }),
  ).rejects.toThrow('boom');
  expect(await prisma.inboxEvent.count({ where: { group: 'batch-group' } })).toBe(0);
  // Events 1 and 3 were handled before; event 4 appears twice in the batch.
  expect((await apply([events[1]!, events[3]!])).result).toEqual([1, 3]);
  const result = await apply([...events, events[4]!]);
  expect(result.result).toEqual([0, 2, 4]);
  expect(result.handled.map((event) => event.id)).toEqual([events[0]!.id, events[2]!.id, events[4]!.id]);
  expect(result.skipped.map((event) => event.id)).toEqual([events[1]!.id, events[3]!.id, events[4]!.id]);
  // Concurrent duplicates: the effect still happens once per event.
  const again = await Promise.all([apply(events), apply(events)]);
  expect(again.every((outcome) => outcome.handled.length === 0 && outcome.result === undefined)).toBe(true);
  expect((await prisma.demoCounter.findUniqueOrThrow({ where: { id: counterId } })).value).toBe(5);
  expect(await prisma.inboxEvent.count({ where: { group: 'batch-group' } })).toBe(5);
});

test('two relays on one database publish every row once, in id order', async () => {
  const bus = openBus();
  // A listener sees events in publish order (group handlers run partitions in parallel).
  const received: TestEvent[] = [];
  await bus.listen({ types: ['shop.order-placed'], handler: (event) => void received.push(event) });
  const events: TestEvent[] = [];
  for (let index = 0; index < 30; index++) events.push(await createTask(`task ${index}`));
  const relays = [createOutboxRelay({ prisma, bus, pollIntervalMs: 20, batchSize: 7 }), createOutboxRelay({ prisma, bus, pollIntervalMs: 20, batchSize: 7 })];
  try {
    await Promise.all(relays.map((relay) => relay.flush()));
    await eventually(() => expect(received).toHaveLength(events.length));
    expect(received.map((event) => event.id)).toEqual(events.map((event) => event.id));
  } finally {
    await Promise.all(relays.map((relay) => relay.stop()));
  }
});
