import { Redis, type RedisOptions } from 'ioredis';
import type { EventEnvelope } from './envelope';
import type {
  BatchDeliveryContext,
  BatchEventBus,
  DeadLetter,
  EventBus,
  EventBusOptions,
  ListenOptions,
  ReplayOptions,
  ReplayResult,
  SubscribeBatchOptions,
  SubscribeOptions,
  Subscription,
} from './eventBus';
import { consoleLogger } from './eventBus';
import { handleWithTelemetry, recordDeadLetter, recordPublished } from './telemetry';
import {
  SerialQueue,
  Waker,
  backoffDelay,
  defaultConsumerName,
  deliverBatch,
  errorMessage,
  partitionOf,
  resolveMaxBatchSize,
  resolveRetry,
  sleep,
} from './internal';

export interface RedisEventBusOptions<TEvent extends EventEnvelope> extends EventBusOptions<TEvent> {
  /** ioredis URL (redis://host:port/db) or options. */
  readonly redis: string | RedisOptions;
  /** Namespace of every key, e.g. "meridian:events"; all processes of one deployment share it. */
  readonly streamPrefix: string;
  /**
   * Trimming of each partition stream on publish (approximate, `~`). Consumers lagging behind
   * the retention lose events, so keep it well above the worst expected lag.
   */
  readonly retention?: { readonly maxLength?: number; readonly maxAgeMs?: number };
  /** A member that stops heart-beating loses its partitions after this (default 5000). */
  readonly leaseMs?: number;
  /** How often members heartbeat and rebalance (default leaseMs / 3). */
  readonly heartbeatMs?: number;
  /** Pending entries of a previous owner are reclaimed once idle this long (default leaseMs). */
  readonly claimIdleMs?: number;
  /** Longest blocking read; bounds how late a new partition or closed bus is noticed (default 2000). */
  readonly blockMs?: number;
  /** Entries per read and stream (default 50; a `subscribeBatch` member reads at least `maxBatchSize`). */
  readonly batchSize?: number;
  /** How long close() waits for in-flight handlers (default 10 000). */
  readonly closeTimeoutMs?: number;
}

interface StreamEntry {
  readonly id: string;
  /** null when the entry was trimmed away while pending. */
  readonly fields: Record<string, string> | null;
}

// Heartbeat on the server clock (TIME) so members on hosts with skewed clocks agree on who is alive.
const HEARTBEAT_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
if ARGV[3] == '1' then
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
else
  redis.call('ZREM', KEYS[1], ARGV[1])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('PEXPIRE', KEYS[1], ttl * 10)
return redis.call('ZRANGE', KEYS[1], 0, -1)`;

// Take a free lease or renew our own; never steal a live one.
const ACQUIRE_SCRIPT = `
local holder = redis.call('GET', KEYS[1])
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`;

const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

function toEntries(raw: unknown): StreamEntry[] {
  return ((raw ?? []) as [string, string[] | null][]).map(([id, fields]) => {
    if (!fields) return { id, fields: null };
    const record: Record<string, string> = {};
    for (let index = 0; index + 1 < fields.length; index += 2) record[fields[index]!] = fields[index + 1]!;
    return { id, fields: record };
  });
}

function toStreams(raw: unknown): { key: string; entries: StreamEntry[] }[] {
  return ((raw ?? []) as [string, unknown][]).map(([key, entries]) => ({ key, entries: toEntries(entries) }));
}

function compareStreamIds(a: string, b: string): number {
  const [aMs = 0, aSeq = 0] = a.split('-').map(Number);
  const [bMs = 0, bSeq = 0] = b.split('-').map(Number);
  return aMs - bMs || aSeq - bSeq;
}

function parseEvent(fields: Record<string, string>): unknown {
  const json = fields.event;
  if (json === undefined) return fields;
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return json;
  }
}

/**
 * The bus of the distributed mode, on Redis Streams. Layout (P = streamPrefix):
 * - `P:stream:<source>:<partition>`: events, partitioned by hash(aggregateId);
 * - `P:dead:<group>`: dead letters;
 * - `P:group:<group>:members` / `:lease:<partition>`: membership and partition leases.
 * See docs/adr/0006-event-delivery.md for why partitions are leased to one member at a time.
 */
export function createRedisEventBus<TEvent extends EventEnvelope>(options: RedisEventBusOptions<TEvent>): BatchEventBus<TEvent> {
  const { registry, streamPrefix: prefix } = options;
  const partitionCount = options.partitions ?? 8;
  const logger = options.logger ?? consoleLogger;
  const leaseMs = options.leaseMs ?? 5000;
  const heartbeatMs = options.heartbeatMs ?? Math.max(50, Math.floor(leaseMs / 3));
  const claimIdleMs = options.claimIdleMs ?? leaseMs;
  const blockMs = options.blockMs ?? 2000;
  const batchSize = options.batchSize ?? 50;
  const closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
  const lifetime = new AbortController();
  const closers = new Set<() => Promise<void>>();
  let closed = false;

  function connect(role: string, autoPipeline = false): Redis {
    const base: RedisOptions = typeof options.redis === 'string' ? {} : options.redis;
    // The command connection is shared by every partition handled concurrently: auto-pipelining sends
    // their commands (acks, lease scripts) in one write instead of one syscall and round trip each.
    const extra: RedisOptions = { connectionName: `event-bridge:${role}`, ...(autoPipeline ? { enableAutoPipelining: true } : {}) };
    const connection = typeof options.redis === 'string' ? new Redis(options.redis, extra) : new Redis({ ...base, ...extra });
    // Without a listener ioredis prints every reconnect error; the loops report failures themselves.
    connection.on('error', (error: Error) => logger.warn({ role, error: error.message }, 'redis connection error'));
    return connection;
  }

  const command = connect('command', true);
  const streamKey = (source: string, partition: number) => `${prefix}:stream:${source}:${partition}`;
  const deadKey = (group: string) => `${prefix}:dead:${group}`;
  const partitions = Array.from({ length: partitionCount }, (_, index) => index);
  const sourcesOf = (types: Iterable<string>) => [...new Set([...types].map((type) => registry.sourceOf(type)))];
  const keysOf = (sources: readonly string[]) => sources.flatMap((source) => partitions.map((p) => streamKey(source, p)));

  function assertOpen() {
    if (closed) throw new Error('Event bus is closed');
  }

  async function addDeadLetter(group: string, event: unknown, error: string, attempts: number, ack?: { key: string; id: string }) {
    const transaction = command.multi();
    transaction.xadd(
      deadKey(group), 'MAXLEN', '~', 10_000, '*',
      'group', group, 'event', JSON.stringify(event), 'error', error,
      'attempts', String(attempts), 'failedAt', new Date().toISOString(),
    );
    if (ack) transaction.xack(ack.key, group, ack.id);
    await transaction.exec();
    recordDeadLetter(group, event);
    logger.error({ group, error, attempts }, 'event moved to dead letters');
  }

  async function unblock(clientId: number) {
    await command.call('CLIENT', 'UNBLOCK', String(clientId)).catch(() => undefined);
  }

  /** Runs `work` but gives up waiting after closeTimeoutMs, so a stuck handler cannot hang close(). */
  async function settle(work: Promise<unknown>): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), closeTimeoutMs);
    });
    try {
      return await Promise.race([work.then(() => true, () => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  function subscribe(subscribeOptions: SubscribeOptions<TEvent, TEvent['type']>): Promise<Subscription> {
    const { handler } = subscribeOptions;
    return join({
      ...subscribeOptions,
      maxBatchSize: 1,
      handler: (events, { group, attempt }) => handler(events[0] as never, { group, attempt }),
    });
  }

  function subscribeBatch(subscribeOptions: SubscribeBatchOptions<TEvent, TEvent['type']>): Promise<Subscription> {
    return join({
      ...subscribeOptions,
      maxBatchSize: resolveMaxBatchSize(subscribeOptions.maxBatchSize),
      handler: subscribeOptions.handler as (events: EventEnvelope[], context: BatchDeliveryContext) => Promise<void>,
    });
  }

  /** Adds a member to a group; `subscribe` is `subscribeBatch` with batches of one. */
  async function join(
    subscribeOptions: Omit<SubscribeBatchOptions<TEvent, TEvent['type']>, 'handler'> & {
      maxBatchSize: number;
      handler: (events: EventEnvelope[], context: BatchDeliveryContext) => Promise<void>;
    },
  ): Promise<Subscription> {
    assertOpen();
    const { group, handler, maxBatchSize } = subscribeOptions;
    // Entries per read/reclaim: at least one full batch per stream.
    const readCount = Math.max(batchSize, maxBatchSize);
    const types = new Set<string>(subscribeOptions.types);
    const sources = sourcesOf(types);
    const consumer = subscribeOptions.consumerName ?? defaultConsumerName();
    const retry = resolveRetry(options.retry, subscribeOptions.retry);
    const membersKey = `${prefix}:group:${group}:members`;
    const leaseKey = (partition: number) => `${prefix}:group:${group}:lease:${partition}`;
    const keysOfPartition = (partition: number) => sources.map((source) => streamKey(source, partition));

    const startId = (subscribeOptions.startFrom ?? 'earliest') === 'earliest' ? '0' : '$';
    await Promise.all(
      keysOf(sources).map((key) =>
        command.call('XGROUP', 'CREATE', key, group, startId, 'MKSTREAM').catch((error: Error) => {
          if (!error.message.includes('BUSYGROUP')) throw error;
        }),
      ),
    );

    const blocking = connect(`${group}:${consumer}`);
    const blockingId = Number(await blocking.call('CLIENT', 'ID'));
    const stop = new AbortController();
    const signal = AbortSignal.any([lifetime.signal, stop.signal]);
    const owned = new Set<number>();
    const recovering = new Set<number>();
    const busy = new Map<number, number>();
    let desired = new Set<number>();
    const waker = new Waker();
    let stopping = false;
    let ticks = 0;

    async function heartbeat(alive: boolean): Promise<string[]> {
      const members = (await command.eval(HEARTBEAT_SCRIPT, 1, membersKey, consumer, leaseMs, alive ? '1' : '0')) as string[];
      return [...members].sort();
    }

    /** Heartbeat, then take the partitions assigned to us and let go of the others (once idle). */
    async function rebalance() {
      const members = await heartbeat(true);
      desired = new Set(partitions.filter((p) => members[p % Math.max(members.length, 1)] === consumer));
      let gained = false;
      for (const p of partitions) {
        if (desired.has(p) || (owned.has(p) && busy.has(p))) {
          const ok = Number(await command.eval(ACQUIRE_SCRIPT, 1, leaseKey(p), consumer, leaseMs)) === 1;
          if (ok && !owned.has(p)) {
            owned.add(p);
            // A previous owner may have left unacked entries: they go first, or order breaks.
            recovering.add(p);
            gained = true;
          } else if (!ok && owned.has(p)) {
            owned.delete(p);
            recovering.delete(p);
            logger.warn({ group, consumer, partition: p }, 'partition lease lost');
          }
        } else if (owned.has(p)) {
          owned.delete(p);
          recovering.delete(p);
          await command.eval(RELEASE_SCRIPT, 1, leaseKey(p), consumer);
        }
      }
      // Safety net: now and then look for entries stranded in a pending list (e.g. after a lost lease).
      if (++ticks % 10 === 0) for (const p of owned) recovering.add(p);
      const releasing = [...owned].some((p) => !desired.has(p));
      if (gained || releasing) {
        waker.wake();
        await unblock(blockingId);
      }
    }

    let tickTimer: NodeJS.Timeout | undefined;
    let ticking: Promise<void> | undefined;
    function scheduleTick() {
      tickTimer = setTimeout(() => {
        ticking = rebalance()
          .catch((error) => logger.warn({ group, consumer, error: errorMessage(error) }, 'rebalance failed'))
          .finally(() => {
            ticking = undefined;
            if (!stopping) scheduleTick();
          });
      }, heartbeatMs);
    }

    /** Marks entries we will not handle as long idle, so the next owner reclaims them at once. */
    async function handBack(key: string, ids: readonly string[]) {
      if (ids.length === 0) return;
      await command
        .call('XCLAIM', key, group, consumer, 0, ...ids, 'IDLE', claimIdleMs * 10, 'JUSTID')
        .catch(() => undefined);
    }

    /**
     * Handled entries of one stream whose XACK is deferred: acked together (one XACK with many ids)
     * when the batch read from that stream is done, before any hand-back or release. A crash in
     * between redelivers them: at least once, as before (handlers are idempotent).
     */
    async function flushAcks(key: string, ids: string[]) {
      if (ids.length === 0) return;
      const batch = ids.splice(0);
      await command.xack(key, group, ...batch);
    }

    interface Item {
      readonly id: string;
      readonly raw: unknown;
      readonly event: EventEnvelope;
    }

    /**
     * Entries of one stream, strictly in order, in batches of up to maxBatchSize consecutive events
     * (per-aggregate order). Entries of other types are acked, invalid ones dead-lettered at once.
     */
    async function processEntries(partition: number, key: string, entries: readonly StreamEntry[]) {
      busy.set(partition, (busy.get(partition) ?? 0) + 1);
      const acks: string[] = [];
      try {
        const items: Item[] = [];
        for (const entry of entries) {
          const type = entry.fields?.type;
          if (!entry.fields || (type !== undefined && !types.has(type))) {
            acks.push(entry.id); // trimmed away, or same source but a type this group does not consume
            continue;
          }
          const raw = parseEvent(entry.fields);
          try {
            items.push({ id: entry.id, raw, event: registry.validate(raw) });
          } catch (error) {
            await addDeadLetter(group, raw, errorMessage(error), 0, { key, id: entry.id });
          }
        }
        const canContinue = () => !stopping && owned.has(partition);
        for (let index = 0; index < items.length; ) {
          const batch = items.slice(index, index + maxBatchSize);
          const finished = canContinue() ? await deliverBatch(batch, {
            maxAttempts: retry.maxAttempts,
            handle: (list, attempt) => {
              const events = list.map((item) => item.event);
              return handleWithTelemetry(group, events, attempt, () => handler(events, { group, attempt, partition }));
            },
            done: (list) => void acks.push(...list.map((item) => item.id)),
            deadLetter: (item, error, attempts) => addDeadLetter(group, item.raw, errorMessage(error), attempts, { key, id: item.id }),
            retry: async (item, attempt, error) => {
              logger.warn({ group, type: item.event.type, attempt, error: errorMessage(error) }, 'event handler failed, will retry');
              await flushAcks(key, acks); // do not hold the acks of handled entries through the backoff
              await sleep(backoffDelay(retry, attempt), signal);
              return !stopping;
            },
            split: (list, error) =>
              logger.warn({ group, partition, size: list.length, error: errorMessage(error) }, 'event batch handler failed, splitting the batch'),
            canContinue,
          }) : 0;
          index += finished;
          if (finished < batch.length) {
            await flushAcks(key, acks);
            await handBack(key, items.slice(index).map((item) => item.id));
            return;
          }
        }
        await flushAcks(key, acks);
      } finally {
        // Also when a handler-unrelated failure (e.g. Redis) aborted the batch: what was handled is acked.
        await flushAcks(key, acks).catch(() => undefined);
        const count = (busy.get(partition) ?? 1) - 1;
        if (count === 0) busy.delete(partition);
        else busy.set(partition, count);
      }
    }

    /** Reclaims what previous owners left pending; true once nothing foreign is pending any more. */
    async function recover(partition: number): Promise<boolean> {
      for (const key of keysOfPartition(partition)) {
        let cursor = '0-0';
        do {
          const reply = (await command.call('XAUTOCLAIM', key, group, consumer, claimIdleMs, cursor, 'COUNT', readCount)) as [string, unknown];
          cursor = reply[0];
          await processEntries(partition, key, toEntries(reply[1]));
        } while (cursor !== '0-0' && !stopping && owned.has(partition));
        const [pending] = (await command.call('XPENDING', key, group)) as [number];
        if (Number(pending) > 0) return false;
      }
      return true;
    }

    async function run() {
      while (!stopping) {
        try {
          for (const p of [...recovering]) {
            if (stopping || !owned.has(p)) break;
            if (await recover(p)) recovering.delete(p);
          }
          const readable = [...owned].filter((p) => desired.has(p) && !recovering.has(p));
          if (readable.length === 0) {
            // Nothing to read yet: wait for a rebalance (or for pending entries to become reclaimable).
            await waker.wait(recovering.size > 0 ? Math.max(50, Math.floor(claimIdleMs / 4)) : heartbeatMs, signal);
            continue;
          }
          const keys = readable.flatMap(keysOfPartition);
          // Busy from the read on: entries delivered to us must be handled (or handed back) before
          // the partition is released, or they would sit in our pending list after the next owner recovered.
          for (const p of readable) busy.set(p, (busy.get(p) ?? 0) + 1);
          try {
            const reply = await blocking.call(
              'XREADGROUP', 'GROUP', group, consumer, 'COUNT', readCount, 'BLOCK', blockMs,
              'STREAMS', ...keys, ...keys.map(() => '>'),
            );
            await Promise.all(
              toStreams(reply).map(({ key, entries }) =>
                processEntries(Number(key.slice(key.lastIndexOf(':') + 1)), key, entries),
              ),
            );
          } finally {
            for (const p of readable) {
              const count = (busy.get(p) ?? 1) - 1;
              if (count === 0) busy.delete(p);
              else busy.set(p, count);
            }
          }
        } catch (error) {
          if (stopping) break;
          logger.error({ group, consumer, error: errorMessage(error) }, 'consumer loop failed, retrying');
          // Something may be left unacked in our own pending list: reclaim it before reading new entries.
          for (const p of owned) recovering.add(p);
          await sleep(500, signal);
        }
      }
    }

    await rebalance();
    scheduleTick();
    const running = run();

    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        stopping = true;
        closers.delete(close);
        stop.abort();
        clearTimeout(tickTimer);
        await ticking;
        await unblock(blockingId);
        const finished = await settle(running);
        blocking.disconnect();
        if (finished) {
          // Leave at once so the other members take our partitions without waiting for the lease to expire.
          await Promise.all([...owned].map((p) => command.eval(RELEASE_SCRIPT, 1, leaseKey(p), consumer))).catch(() => undefined);
          await heartbeat(false).catch(() => undefined);
        } else {
          logger.warn({ group, consumer }, 'handler still running at close; partitions are released when the lease expires');
        }
      })());
    closers.add(close);
    return { close };
  }

  // One blocking connection serves every listener of this process.
  interface Listener {
    readonly types: ReadonlySet<string>;
    readonly handler: (event: EventEnvelope) => void | Promise<void>;
    readonly queue: SerialQueue;
    /** Last entry per stream at registration: only later entries are delivered. */
    readonly starts: Promise<Map<string, string>>;
    readonly onInterrupted?: (error: Error) => void;
    closed: boolean;
  }
  const listeners = new Set<Listener>();
  const positions = new Map<string, string>();
  let hub: { connection: Redis; clientId: Promise<number>; running: Promise<void>; waker: Waker } | undefined;

  async function lastIds(keys: readonly string[]): Promise<Map<string, string>> {
    const replies = await Promise.all(keys.map((key) => command.call('XREVRANGE', key, '+', '-', 'COUNT', 1)));
    return new Map(keys.map((key, index) => [key, toEntries(replies[index])[0]?.id ?? '0-0']));
  }

  function dispatch(key: string, entry: StreamEntry) {
    if (!entry.fields) return;
    const fields = entry.fields;
    for (const listener of listeners) {
      if (fields.type !== undefined && !listener.types.has(fields.type)) continue;
      listener.queue.push(async () => {
        const start = (await listener.starts).get(key);
        if (listener.closed || start === undefined || compareStreamIds(entry.id, start) <= 0) return;
        const raw = parseEvent(fields);
        let event: EventEnvelope;
        try {
          event = registry.validate(raw);
        } catch (error) {
          await addDeadLetter('$listen', raw, errorMessage(error), 0).catch(() => undefined);
          return;
        }
        try {
          await listener.handler(event);
        } catch (error) {
          logger.error({ type: event.type, error: errorMessage(error) }, 'event listener failed');
        }
      });
    }
  }

  function startHub() {
    const connection = connect('listen');
    // A blocked XREAD is resent by ioredis after a reconnect rather than failed, so a lost
    // connection is noticed here, not in the loop: listeners learn at once that delivery stopped.
    connection.on('close', () => {
      if (closed) return;
      const interruption = new Error('Redis connection lost');
      for (const listener of listeners) listener.onInterrupted?.(interruption);
    });
    const waker = new Waker();
    const clientId = connection.call('CLIENT', 'ID').then(Number);
    const running = (async () => {
      while (!closed) {
        try {
          const keys = [...positions.keys()];
          if (keys.length === 0) {
            await waker.wait(blockMs, lifetime.signal);
            continue;
          }
          const reply = await connection.call(
            'XREAD', 'COUNT', 100, 'BLOCK', blockMs, 'STREAMS', ...keys, ...keys.map((key) => positions.get(key)!),
          );
          for (const { key, entries } of toStreams(reply)) {
            for (const entry of entries) {
              positions.set(key, entry.id);
              dispatch(key, entry);
            }
          }
        } catch (error) {
          if (closed) break;
          logger.error({ error: errorMessage(error) }, 'listen loop failed, retrying');
          const interruption = error instanceof Error ? error : new Error(errorMessage(error));
          for (const listener of listeners) listener.onInterrupted?.(interruption);
          await sleep(500, lifetime.signal);
        }
      }
    })();
    return { connection, clientId, running, waker };
  }

  async function listen(listenOptions: ListenOptions<TEvent, TEvent['type']>): Promise<Subscription> {
    assertOpen();
    const keys = keysOf(sourcesOf(listenOptions.types));
    const starts = lastIds(keys);
    const listener: Listener = {
      types: new Set(listenOptions.types),
      handler: listenOptions.handler as Listener['handler'],
      queue: new SerialQueue(),
      starts,
      ...(listenOptions.onInterrupted ? { onInterrupted: listenOptions.onInterrupted } : {}),
      closed: false,
    };
    // Registered before the start ids are known, so nothing published meanwhile is missed.
    listeners.add(listener);
    const known = await starts;
    hub ??= startHub();
    let added = false;
    for (const [key, id] of known) {
      if (!positions.has(key)) {
        positions.set(key, id);
        added = true;
      }
    }
    if (added) {
      hub.waker.wake();
      await unblock(await hub.clientId);
    }
    const close = async () => {
      listener.closed = true;
      listeners.delete(listener);
      closers.delete(close);
      await listener.queue.idle();
    };
    closers.add(close);
    return { close };
  }

  async function replay(replayOptions: ReplayOptions<TEvent, TEvent['type']>): Promise<ReplayResult> {
    assertOpen();
    const types = new Set<string>(replayOptions.types);
    // k-way merge of the partition streams by event id: each stream keeps its own order (per aggregate),
    // and the merge gives a stable, roughly chronological global order.
    const cursors = keysOf(sourcesOf(types)).map((key) => ({
      key,
      after: undefined as string | undefined,
      done: false,
      buffer: [] as { raw: unknown; id: string }[],
    }));
    const chunk = 500;
    async function fill(cursor: (typeof cursors)[number]) {
      while (cursor.buffer.length === 0 && !cursor.done) {
        const start = cursor.after === undefined ? '-' : `(${cursor.after}`;
        const entries = toEntries(await command.call('XRANGE', cursor.key, start, '+', 'COUNT', chunk));
        if (entries.length < chunk) cursor.done = true;
        for (const entry of entries) {
          cursor.after = entry.id;
          if (!entry.fields || (entry.fields.type !== undefined && !types.has(entry.fields.type))) continue;
          const raw = parseEvent(entry.fields);
          const id = typeof raw === 'object' && raw !== null ? String((raw as { id?: unknown }).id ?? '') : '';
          if (replayOptions.fromId !== undefined && id <= replayOptions.fromId) continue;
          cursor.buffer.push({ raw, id });
        }
      }
    }
    let count = 0;
    let lastId: string | undefined;
    for (;;) {
      assertOpen();
      await Promise.all(cursors.map(fill));
      let next: (typeof cursors)[number] | undefined;
      for (const cursor of cursors) {
        const head = cursor.buffer[0];
        if (head && (!next || head.id < next.buffer[0]!.id)) next = cursor;
      }
      if (!next) break;
      const { raw } = next.buffer.shift()!;
      let event: EventEnvelope;
      try {
        event = registry.validate(raw);
      } catch (error) {
        await addDeadLetter('$replay', raw, errorMessage(error), 0);
        continue;
      }
      await replayOptions.handler(event as never);
      count++;
      lastId = event.id;
    }
    return { count, lastId };
  }

  return {
    async publish(events) {
      assertOpen();
      const list = (Array.isArray(events) ? events : [events]) as readonly EventEnvelope[];
      for (const event of list) registry.validate(event); // all or nothing
      if (list.length === 0) return;
      const { maxLength = 100_000, maxAgeMs } = options.retention ?? {};
      // MULTI: the batch lands atomically (one Redis node), so a retry after a failure re-sends all of it.
      const transaction = command.multi();
      for (const event of list) {
        const key = streamKey(event.source, partitionOf(event.aggregateId, partitionCount));
        transaction.xadd(key, 'MAXLEN', '~', maxLength, '*', 'type', event.type, 'event', JSON.stringify(event));
        if (maxAgeMs !== undefined) transaction.xtrim(key, 'MINID', '~', `${Date.now() - maxAgeMs}-0`);
      }
      const results = await transaction.exec();
      const failure = results?.find(([error]) => error);
      if (!results || failure) throw new Error(`Publishing events failed: ${failure?.[0]?.message ?? 'transaction aborted'}`);
      recordPublished(list);
    },
    subscribe: subscribe as EventBus<TEvent>['subscribe'],
    subscribeBatch: subscribeBatch as BatchEventBus<TEvent>['subscribeBatch'],
    listen: listen as EventBus<TEvent>['listen'],
    replay: replay as EventBus<TEvent>['replay'],
    async readDeadLetters(group): Promise<DeadLetter[]> {
      const entries = toEntries(await command.call('XRANGE', deadKey(group), '-', '+'));
      return entries.flatMap(({ fields }) =>
        fields
          ? [{
              group,
              event: parseEvent(fields),
              error: fields.error ?? '',
              attempts: Number(fields.attempts ?? 0),
              failedAt: fields.failedAt ?? '',
            }]
          : [],
      );
    },
    async close() {
      if (closed) return;
      await Promise.all([...closers].map((close) => close()));
      closed = true;
      lifetime.abort();
      if (hub) {
        await unblock(await hub.clientId.catch(() => 0));
        hub.connection.disconnect();
        await hub.running;
      }
      await command.quit().catch(() => command.disconnect());
    },
  };
}
