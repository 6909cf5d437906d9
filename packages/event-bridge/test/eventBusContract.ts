import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import type { BatchDeliveryContext, BatchEventBus } from '../src/index';
import { EventValidationError, OUTBOX_INBOX_TABLES_SQL, handleBatchOnce, partitionOf } from '../src/index';
import { PrismaClient } from './generated/prisma/client';
import { eventually, note, placed, shipped, unique, type TestEvent } from './fixtures';

/**
 * One place that says what "an event bus" means; every implementation runs it.
 * `open()` gives an isolated bus plus `peer()`: another member of the same deployment
 * (the same bus in memory, another connection/"process" on Redis).
 */
export interface BusHarness {
  /** Partitions of the buses `open` creates. */
  readonly partitions: number;
  open(): Promise<{ bus: BatchEventBus<TestEvent>; peer(): Promise<BatchEventBus<TestEvent>> }>;
}

type PlacedEvent = Extract<TestEvent, { type: 'shop.order-placed' }>;

export function runEventBusContract(name: string, harness: BusHarness): void {
  describe(`${name}: EventBus contract`, () => {
    const cleanup: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const close of cleanup.splice(0).reverse()) await close();
    });
    async function open() {
      const scope = await harness.open();
      cleanup.push(() => scope.bus.close());
      return {
        bus: scope.bus,
        peer: async () => {
          const other = await scope.peer();
          if (other !== scope.bus) cleanup.push(() => other.close());
          return other;
        },
      };
    }

    test('publish rejects an invalid payload, naming the type and the field, and delivers nothing', async () => {
      const { bus } = await open();
      const seen: number[] = [];
      await bus.subscribe({ group: unique('g'), types: ['shop.order-placed'], handler: async (event) => void seen.push(event.payload.seq) });
      const bad = { ...placed('o1', 1), payload: { orderId: 'o1', seq: 'one' } } as unknown as TestEvent;
      const good = placed('o1', 2);
      const attempt = bus.publish([good, bad]);
      await expect(attempt).rejects.toThrow(EventValidationError);
      await expect(attempt).rejects.toThrow(/shop\.order-placed.*payload\.seq/);
      await bus.publish(placed('o1', 3));
      await eventually(() => expect(seen).toEqual([3]));
    });

    test('every group gets every event, each exactly once', async () => {
      const { bus } = await open();
      const byGroup = new Map<string, string[]>();
      for (const group of [unique('billing'), unique('mailer')]) {
        byGroup.set(group, []);
        await bus.subscribe({ group, types: ['shop.order-placed'], handler: async (event) => void byGroup.get(group)!.push(event.id) });
      }
      const events = Array.from({ length: 12 }, (_, index) => placed(`order-${index % 4}`, index));
      await bus.publish(events);
      const ids = events.map((event) => event.id).sort();
      await eventually(() => {
        for (const received of byGroup.values()) expect([...received].sort()).toEqual(ids);
      });
    });

    test('members of one group compete: work is shared and no event is handled twice', async () => {
      const { bus, peer } = await open();
      const other = await peer();
      const group = unique('workers');
      const handledBy = new Map<string, string[]>([['a', []], ['b', []]]);
      await bus.subscribe({ group, types: ['shop.order-placed'], consumerName: 'a', handler: async (event) => void handledBy.get('a')!.push(event.id) });
      await other.subscribe({ group, types: ['shop.order-placed'], consumerName: 'b', handler: async (event) => void handledBy.get('b')!.push(event.id) });
      const published: string[] = [];
      // Keep publishing until rebalancing has given both members partitions.
      await eventually(async () => {
        const wave = Array.from({ length: 16 }, (_, index) => placed(unique('order'), index));
        published.push(...wave.map((event) => event.id));
        await bus.publish(wave);
        await eventually(() => expect(handledBy.get('a')!.length + handledBy.get('b')!.length).toBe(published.length), 5000);
        expect(handledBy.get('a')!.length).toBeGreaterThan(0);
        expect(handledBy.get('b')!.length).toBeGreaterThan(0);
      }, 20_000, 50);
      const all = [...handledBy.get('a')!, ...handledBy.get('b')!];
      expect(new Set(all).size).toBe(all.length);
      expect([...all].sort()).toEqual([...published].sort());
    });

    test('a failing handler is retried with backoff, then succeeds', async () => {
      const { bus } = await open();
      const attempts: number[] = [];
      const done: string[] = [];
      const group = unique('flaky');
      await bus.subscribe({
        group,
        types: ['shop.order-placed'],
        retry: { maxAttempts: 5, initialDelayMs: 10 },
        handler: async (event, context) => {
          attempts.push(context.attempt);
          if (context.attempt < 3) throw new Error('database not ready');
          done.push(event.id);
        },
      });
      const event = placed(unique('order'), 1);
      await bus.publish(event);
      await eventually(() => expect(done).toEqual([event.id]));
      expect(attempts).toEqual([1, 2, 3]);
      expect(await bus.readDeadLetters(group)).toEqual([]);
    });

    test('after N failed attempts the event goes to the dead letters with the error, and the next one flows', async () => {
      const { bus } = await open();
      const group = unique('doomed');
      let calls = 0;
      const handled: number[] = [];
      await bus.subscribe({
        group,
        types: ['shop.order-placed'],
        retry: { maxAttempts: 3, initialDelayMs: 5 },
        handler: async (event) => {
          if (event.payload.note === 'poison') {
            calls++;
            throw new Error('cannot handle poison');
          }
          handled.push(event.payload.seq);
        },
      });
      const orderId = unique('order');
      const poison = placed(orderId, 1, 'poison');
      await bus.publish([poison, placed(orderId, 2)]);
      await eventually(() => expect(handled).toEqual([2]));
      expect(calls).toBe(3);
      const dead = await bus.readDeadLetters(group);
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({ group, attempts: 3, error: 'cannot handle poison', event: { id: poison.id } });
    });

    test('events of one aggregate are handled in order, across members and retries', async () => {
      const { bus, peer } = await open();
      const other = await peer();
      const group = unique('ordered');
      const seen = new Map<string, number[]>();
      const failedOnce = new Set<string>();
      const handler = async (event: TestEvent) => {
        if (event.type !== 'shop.order-placed') return;
        // Uneven handler times would reorder an unordered consumer.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
        if (event.payload.seq === 5 && !failedOnce.has(event.aggregateId)) {
          failedOnce.add(event.aggregateId);
          throw new Error('transient');
        }
        seen.set(event.aggregateId, [...(seen.get(event.aggregateId) ?? []), event.payload.seq]);
      };
      await bus.subscribe({ group, types: ['shop.order-placed'], consumerName: 'a', retry: { initialDelayMs: 5 }, handler });
      await other.subscribe({ group, types: ['shop.order-placed'], consumerName: 'b', retry: { initialDelayMs: 5 }, handler });
      const orders = Array.from({ length: 6 }, () => unique('order'));
      const sequence = Array.from({ length: 15 }, (_, seq) => seq);
      for (const seq of sequence) await bus.publish(orders.map((orderId) => placed(orderId, seq)));
      await eventually(() => {
        for (const orderId of orders) expect(seen.get(orderId)).toEqual(sequence);
      }, 20_000);
    });

    test('listen broadcasts to every listener from the moment it resolves', async () => {
      const { bus, peer } = await open();
      const other = await peer();
      const before = placed(unique('order'), 0);
      await bus.publish(before);
      const first: string[] = [];
      const second: string[] = [];
      await bus.listen({ types: ['shop.order-shipped'], handler: (event) => void first.push(event.id) });
      await other.listen({ types: ['shop.order-shipped', 'shop.order-placed'], handler: (event) => void second.push(event.id) });
      const events = [shipped(unique('order')), placed(unique('order'), 1), shipped(unique('order'))];
      await bus.publish(events);
      await eventually(() => {
        expect(first).toEqual([events[0]!.id, events[2]!.id]);
        expect([...second].sort()).toEqual(events.map((event) => event.id).sort());
      });
      expect(second).not.toContain(before.id);
    });

    test('replay reads the retained events of the asked types, in id order, and resumes after fromId', async () => {
      const { bus } = await open();
      const notes = Array.from({ length: 5 }, (_, index) => note(unique('note'), `text ${index}`));
      for (const event of notes) await bus.publish([event, placed(unique('order'), 1)]);
      const replayed: string[] = [];
      const result = await bus.replay({ types: ['notes.note-added'], handler: (event) => void replayed.push(event.id) });
      expect(replayed).toEqual(notes.map((event) => event.id));
      expect(result).toEqual({ count: 5, lastId: notes[4]!.id });
      const rest: string[] = [];
      await bus.replay({ types: ['notes.note-added'], fromId: notes[2]!.id, handler: (event) => void rest.push(event.id) });
      expect(rest).toEqual([notes[3]!.id, notes[4]!.id]);
    });

    test('a new group starts from the earliest retained event by default, or from now with startFrom latest', async () => {
      const { bus } = await open();
      const old = note(unique('note'), 'old');
      await bus.publish(old);
      const early: string[] = [];
      const late: string[] = [];
      await bus.subscribe({ group: unique('early'), types: ['notes.note-added'], handler: async (event) => void early.push(event.id) });
      await bus.subscribe({ group: unique('late'), types: ['notes.note-added'], startFrom: 'latest', handler: async (event) => void late.push(event.id) });
      const fresh = note(unique('note'), 'new');
      await bus.publish(fresh);
      await eventually(() => {
        expect(early).toContain(old.id);
        expect(early).toContain(fresh.id);
        expect(late).toEqual([fresh.id]);
      });
    });

    test('close stops every loop promptly, even with a member waiting to retry', async () => {
      const { bus } = await open();
      let calls = 0;
      await bus.subscribe({
        group: unique('closing'),
        types: ['shop.order-placed'],
        retry: { maxAttempts: 5, initialDelayMs: 60_000 },
        handler: async () => {
          calls++;
          throw new Error('always');
        },
      });
      await bus.listen({ types: ['shop.order-placed'], handler: () => undefined });
      await bus.publish(placed(unique('order'), 1));
      await eventually(() => expect(calls).toBe(1));
      const started = Date.now();
      await bus.close();
      expect(Date.now() - started).toBeLessThan(5000);
      await expect(bus.publish(placed(unique('order'), 2))).rejects.toThrow(/closed/);
    });

    describe('subscribeBatch', () => {
      let database: { pglite: PGlite; prisma: PrismaClient } | undefined;
      afterAll(async () => {
        await database?.prisma.$disconnect();
        await database?.pglite.close();
      });
      async function openDatabase() {
        if (!database) {
          const pglite = new PGlite();
          await pglite.exec(`${OUTBOX_INBOX_TABLES_SQL}
            CREATE TABLE demo_counters (id TEXT PRIMARY KEY, value INTEGER NOT NULL DEFAULT 0);`);
          database = { pglite, prisma: new PrismaClient({ adapter: new PrismaPGlite(pglite) }) };
        }
        return database.prisma;
      }

      test('a batch holds consecutive events of one partition, in order, across members and retries', async () => {
        const { bus, peer } = await open();
        const other = await peer();
        const group = unique('batched');
        const orders = Array.from({ length: 6 }, () => unique('order'));
        const sequence = Array.from({ length: 15 }, (_, seq) => seq);
        // Published before anyone subscribes: the first reads find full batches.
        for (const seq of sequence.slice(0, 8)) await bus.publish(orders.map((orderId) => placed(orderId, seq)));
        const seen = new Map<string, number[]>();
        const batches: { size: number; partitions: Set<number>; context: BatchDeliveryContext }[] = [];
        const failedOnce = new Set<string>();
        const handler = async (events: PlacedEvent[], context: BatchDeliveryContext) => {
          batches.push({ size: events.length, partitions: new Set(events.map((e) => partitionOf(e.aggregateId, harness.partitions))), context });
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
          // All or nothing, like a handler that writes in one transaction.
          const failing = events.find((event) => event.payload.seq === 5 && !failedOnce.has(event.aggregateId));
          if (failing) {
            failedOnce.add(failing.aggregateId);
            throw new Error('transient');
          }
          for (const event of events) seen.set(event.aggregateId, [...(seen.get(event.aggregateId) ?? []), event.payload.seq]);
        };
        const options = { group, types: ['shop.order-placed' as const], maxBatchSize: 10, retry: { initialDelayMs: 5 }, handler };
        await bus.subscribeBatch({ ...options, consumerName: 'a' });
        await other.subscribeBatch({ ...options, consumerName: 'b' });
        for (const seq of sequence.slice(8)) await bus.publish(orders.map((orderId) => placed(orderId, seq)));
        await eventually(() => {
          for (const orderId of orders) expect(seen.get(orderId)).toEqual(sequence);
        }, 20_000);
        expect(Math.max(...batches.map((batch) => batch.size))).toBeGreaterThan(1);
        expect(Math.max(...batches.map((batch) => batch.size))).toBeLessThanOrEqual(10);
        for (const batch of batches) {
          expect([...batch.partitions]).toEqual([batch.context.partition]);
          expect(batch.context.group).toBe(group);
        }
        expect(await bus.readDeadLetters(group)).toEqual([]);
      });

      test('a poison event is isolated: it alone goes to the dead letters, every other event is handled once, in order', async () => {
        const { bus } = await open();
        const group = unique('poisoned');
        const orderId = unique('order');
        const events = Array.from({ length: 20 }, (_, seq) => placed(orderId, seq));
        const poison = events[13]!;
        await bus.publish(events);
        const handled: number[] = [];
        let poisonCalls = 0;
        await bus.subscribeBatch({
          group,
          types: ['shop.order-placed'],
          maxBatchSize: 50,
          retry: { maxAttempts: 3, initialDelayMs: 5 },
          handler: async (batch, context) => {
            if (batch.some((event) => event.id === poison.id)) {
              if (batch.length === 1) {
                poisonCalls++;
                expect(context.attempt).toBe(poisonCalls);
              }
              throw new Error('cannot handle poison');
            }
            handled.push(...batch.map((event) => event.payload.seq));
          },
        });
        await eventually(async () => expect(await bus.readDeadLetters(group)).toHaveLength(1));
        await eventually(() => expect(handled).toHaveLength(19));
        expect(handled).toEqual(events.filter((event) => event !== poison).map((event) => event.payload.seq));
        expect(poisonCalls).toBe(3);
        const [dead] = await bus.readDeadLetters(group);
        expect(dead).toMatchObject({ group, attempts: 3, error: 'cannot handle poison', event: { id: poison.id } });
        // The partition is not blocked afterwards.
        await bus.publish(placed(orderId, 20));
        await eventually(() => expect(handled.at(-1)).toBe(20));
      });

      test('with handleBatchOnce, duplicates and redeliveries after a commit apply each effect exactly once', async () => {
        const prisma = await openDatabase();
        const { bus } = await open();
        const group = unique('once');
        const orders = Array.from({ length: 3 }, () => unique('order'));
        await prisma.demoCounter.createMany({ data: orders.map((id) => ({ id })) });
        const events = orders.flatMap((orderId) => Array.from({ length: 10 }, (_, seq) => placed(orderId, seq)));
        let skipped = 0;
        let crashes = 0;
        await bus.subscribeBatch({
          group,
          types: ['shop.order-placed'],
          maxBatchSize: 8,
          retry: { initialDelayMs: 5 },
          handler: async (batch) => {
            const result = await handleBatchOnce(prisma, group, batch, async (tx, fresh) => {
              for (const event of fresh) await tx.demoCounter.update({ where: { id: event.aggregateId }, data: { value: { increment: 1 } } });
              return fresh.length;
            });
            skipped += result.skipped.length;
            // Committed, then "crashed" before the ack: the batch is delivered again.
            if (crashes < 2 && result.handled.length > 0) {
              crashes++;
              throw new Error('crashed after commit');
            }
          },
        });
        // Every event published twice (the relay re-publishes after a crash), once in the same call.
        await bus.publish([...events, events[0]!]);
        await bus.publish(events);
        await eventually(async () => {
          const counters = await prisma.demoCounter.findMany({ where: { id: { in: orders } } });
          expect(counters.map((counter) => counter.value)).toEqual([10, 10, 10]);
          expect(skipped).toBeGreaterThanOrEqual(events.length + 1);
        }, 20_000);
        expect(await prisma.inboxEvent.count({ where: { group } })).toBe(events.length);
        expect(await bus.readDeadLetters(group)).toEqual([]);
      });
    });
  });
}
