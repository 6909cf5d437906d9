import { currentRequestId, currentTraceparent } from '@meridian/observability';
import type { EventEnvelope } from './envelope';
import type { EventBus, EventBusLogger } from './eventBus';
import { consoleLogger } from './eventBus';
import { backoffDelay, errorMessage, jsonCopy, resolveRetry, Waker } from './internal';

/** JSON as Prisma accepts it for a `Json` column. */
export type OutboxJsonValue = string | number | boolean | null | readonly OutboxJsonValue[] | OutboxJsonObject;
export interface OutboxJsonObject {
  readonly [key: string]: OutboxJsonValue | undefined;
}

/** A row of `outbox_events` as written through Prisma. */
export interface OutboxEventRow {
  id: string;
  type: string;
  version: number;
  source: string;
  aggregateId: string;
  occurredAt: Date;
  traceparent: string | null;
  requestId: string | null;
  payload: OutboxJsonObject;
}

/** Structural type: the `tx` of any service's `prisma.$transaction(async (tx) => ...)` fits. */
export interface OutboxWriter {
  outboxEvent: { createMany(args: { data: OutboxEventRow[] }): PromiseLike<unknown> };
  /** Present on every Prisma client; when it is, the rows go in with one raw INSERT (cheaper than createMany). */
  $executeRaw?: RawSqlClient['$executeRaw'];
}

/** The raw-SQL part of a Prisma client (or transaction client). */
export interface RawSqlClient {
  $queryRaw<T = unknown>(query: TemplateStringsArray, ...values: any[]): PromiseLike<T>;
  $executeRaw(query: TemplateStringsArray, ...values: any[]): PromiseLike<number>;
}

/** Any Prisma client: only interactive transactions are used. */
export interface TransactionRunner<TTx> {
  $transaction<R>(fn: (tx: TTx) => Promise<R>, options?: { maxWait?: number; timeout?: number }): Promise<R>;
}

/**
 * Stages events in the caller's transaction: they are published (by the relay) if and only if
 * the business change commits.
 */
export async function writeOutbox(tx: OutboxWriter, events: EventEnvelope | readonly EventEnvelope[]): Promise<void> {
  const given = (Array.isArray(events) ? events : [events]) as readonly EventEnvelope[];
  if (given.length === 0) return;
  // Events built outside the request (e.g. by hand in tests) still get the trace context of the writer.
  const list = given.map(withActiveTrace);
  if (typeof tx.$executeRaw === 'function') {
    // One statement whatever the batch size: column arrays unnested into rows. Prisma's createMany
    // compiles a new query plan per row count, which costs more CPU than the insert itself.
    await tx.$executeRaw`
      INSERT INTO outbox_events (id, type, version, source, aggregate_id, occurred_at, traceparent, request_id, payload)
      SELECT id, type, version, source, aggregate_id, occurred_at::timestamptz, traceparent, request_id, payload::jsonb
      FROM unnest(
        ${list.map((event) => event.id)}::text[], ${list.map((event) => event.type)}::text[],
        ${list.map((event) => event.version)}::int[], ${list.map((event) => event.source)}::text[],
        ${list.map((event) => event.aggregateId)}::text[], ${list.map((event) => new Date(event.occurredAt).toISOString())}::text[],
        ${list.map((event) => event.traceparent ?? null)}::text[], ${list.map((event) => event.requestId ?? null)}::text[],
        ${list.map((event) => JSON.stringify(event.payload))}::text[]
      ) AS rows (id, type, version, source, aggregate_id, occurred_at, traceparent, request_id, payload)`;
    return;
  }
  await tx.outboxEvent.createMany({
    data: list.map((event) => ({
      id: event.id,
      type: event.type,
      version: event.version,
      source: event.source,
      aggregateId: event.aggregateId,
      occurredAt: new Date(event.occurredAt),
      traceparent: event.traceparent ?? null,
      requestId: event.requestId ?? null,
      payload: jsonCopy(event.payload) as OutboxJsonObject,
    })),
  });
}

export interface OutboxRelayOptions<TTx extends RawSqlClient> {
  readonly prisma: TransactionRunner<TTx>;
  readonly bus: Pick<EventBus<any>, 'publish'>;
  /** Safety-net polling interval; notify() gives low latency (default 1000). */
  readonly pollIntervalMs?: number;
  /** Rows per publish (default 100). */
  readonly batchSize?: number;
  readonly logger?: EventBusLogger;
}

export interface OutboxRelay {
  /** Wakes the relay now (call after a transaction that wrote to the outbox committed). */
  notify(): void;
  /** Publishes until nothing is pending (or another replica holds the lock); returns rows published. */
  flush(): Promise<number>;
  /** Stops polling; an in-flight batch completes first. */
  stop(): Promise<void>;
}

interface PendingRow {
  id: string;
  type: string;
  version: number;
  source: string;
  aggregate_id: string;
  occurred_at: Date | string;
  traceparent: string | null;
  request_id: string | null;
  payload: unknown;
}

// Any constant shared by all replicas of a service (each service has its own database).
const RELAY_LOCK_KEY = 0x6f757462; // "outb"

/**
 * Publishes committed outbox rows in id order and marks them published.
 *
 * One batch = one transaction holding a transaction-level advisory lock: only one replica
 * publishes at a time, so the bus sees rows in id order (per-aggregate order survives) and
 * replicas do not double-publish. `FOR UPDATE SKIP LOCKED` additionally keeps rows locked
 * while they are published. A crash between publish and commit leaves the rows pending: they
 * are published again (at least once; consumers are idempotent via handleOnce).
 */
export function createOutboxRelay<TTx extends RawSqlClient>(options: OutboxRelayOptions<TTx>): OutboxRelay {
  const { prisma, bus } = options;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const batchSize = options.batchSize ?? 100;
  const logger = options.logger ?? consoleLogger;
  const failureBackoff = resolveRetry({ initialDelayMs: Math.min(pollIntervalMs, 500), maxDelayMs: 30_000 });
  const waker = new Waker();
  const lifetime = new AbortController();
  let stopped = false;
  let failures = 0;
  let current: Promise<number> = Promise.resolve(0);

  /** One batch; returns rows published, or -1 when another replica holds the lock. */
  async function publishBatch(): Promise<number> {
    let ids: string[] = [];
    try {
      return await prisma.$transaction(
        async (tx) => {
          const [lock] = await tx.$queryRaw<{ locked: boolean }[]>`SELECT pg_try_advisory_xact_lock(${RELAY_LOCK_KEY}) AS locked`;
          if (!lock?.locked) return -1;
          const rows = await tx.$queryRaw<PendingRow[]>`
            SELECT id, type, version, source, aggregate_id, occurred_at, traceparent, request_id, payload
            FROM outbox_events
            WHERE published_at IS NULL
            ORDER BY id
            LIMIT ${batchSize}
            FOR UPDATE SKIP LOCKED`;
          if (rows.length === 0) return 0;
          ids = rows.map((row) => row.id);
          await bus.publish(rows.map(toEnvelope));
          await tx.$executeRaw`
            UPDATE outbox_events SET published_at = now(), attempts = attempts + 1 WHERE id = ANY(${ids})`;
          return rows.length;
        },
        { timeout: 30_000 },
      );
    } catch (error) {
      // Count the failed attempt outside the rolled-back transaction (visible for operators).
      if (ids.length > 0) {
        await prisma
          .$transaction(async (tx) => tx.$executeRaw`UPDATE outbox_events SET attempts = attempts + 1 WHERE id = ANY(${ids})`)
          .catch(() => undefined);
      }
      throw error;
    }
  }

  async function drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const published = await publishBatch();
      if (published <= 0) return total;
      total += published;
      if (published < batchSize) return total;
    }
  }

  // Runs drains one at a time: notify() during a drain schedules exactly one more.
  function runExclusive(): Promise<number> {
    current = current.catch(() => 0).then(drain);
    return current;
  }

  const loop = (async () => {
    while (!stopped) {
      let delay = pollIntervalMs;
      try {
        await runExclusive();
        failures = 0;
      } catch (error) {
        failures++;
        delay = backoffDelay(failureBackoff, failures);
        logger.error({ error: errorMessage(error), failures }, 'outbox relay failed to publish, will retry');
      }
      await waker.wait(delay, lifetime.signal);
    }
  })();

  return {
    notify() {
      waker.wake();
    },
    flush() {
      return runExclusive();
    },
    async stop() {
      stopped = true;
      lifetime.abort();
      await loop;
      await current.catch(() => undefined);
    },
  };
}

function withActiveTrace(event: EventEnvelope): EventEnvelope {
  if (event.traceparent !== undefined && event.requestId !== undefined) return event;
  const traceparent = event.traceparent ?? currentTraceparent();
  const requestId = event.requestId ?? currentRequestId();
  return { ...event, ...(traceparent ? { traceparent } : {}), ...(requestId ? { requestId } : {}) };
}

function toEnvelope(row: PendingRow): EventEnvelope {
  return {
    id: row.id,
    type: row.type,
    version: Number(row.version),
    source: row.source,
    aggregateId: row.aggregate_id,
    occurredAt: new Date(row.occurred_at).toISOString(),
    ...(row.traceparent ? { traceparent: row.traceparent } : {}),
    ...(row.request_id ? { requestId: row.request_id } : {}),
    payload: typeof row.payload === 'string' ? (JSON.parse(row.payload) as unknown) : row.payload,
  };
}

export type HandleOnceResult<R> = { readonly handled: true; readonly result: R } | { readonly handled: false };

/**
 * Runs `fn` and records the event in `inbox_events` in ONE transaction. A duplicate delivery
 * of an event already handled by this group is skipped: the effect happens exactly once.
 * The inbox row is inserted first so that a concurrent duplicate waits on its unique key and
 * then skips, instead of running `fn` twice.
 */
export async function handleOnce<TTx extends RawSqlClient, R>(
  prisma: TransactionRunner<TTx>,
  group: string,
  event: Pick<EventEnvelope, 'id'>,
  fn: (tx: TTx) => Promise<R>,
): Promise<HandleOnceResult<R>> {
  return prisma.$transaction(async (tx) => {
    const inserted = await tx.$executeRaw`
      INSERT INTO inbox_events ("group", event_id, handled_at) VALUES (${group}, ${event.id}, now())
      ON CONFLICT DO NOTHING`;
    if (inserted === 0) return { handled: false } as const;
    return { handled: true, result: await fn(tx) } as const;
  });
}

export interface HandleBatchOnceResult<E, R> {
  /** Events this call handled (first time seen by the group), in batch order: what `fn` received. */
  readonly handled: readonly E[];
  /** Events already handled before (or repeated within the batch): skipped. */
  readonly skipped: readonly E[];
  /** What `fn` returned; undefined when every event was a duplicate (then `fn` is not called). */
  readonly result: R | undefined;
}

/**
 * `handleOnce` for a batch: ONE transaction inserts the inbox rows of all the events with one
 * statement (`INSERT ... ON CONFLICT DO NOTHING RETURNING event_id`) and runs `fn` with only the
 * events not handled before, in batch order. One commit (one fsync) per batch instead of per
 * event; the effect still happens exactly once per event and group. If `fn` throws, nothing of the
 * batch is recorded. A concurrent duplicate waits on the inbox keys, then skips.
 */
export async function handleBatchOnce<TTx extends RawSqlClient, E extends Pick<EventEnvelope, 'id'>, R>(
  prisma: TransactionRunner<TTx>,
  group: string,
  events: readonly E[],
  fn: (tx: TTx, freshEvents: E[]) => Promise<R>,
): Promise<HandleBatchOnceResult<E, R>> {
  if (events.length === 0) return { handled: [], skipped: [], result: undefined };
  // Sorted ids: two concurrent batches sharing ids lock the keys in the same order (no deadlock).
  const ids = [...new Set(events.map((event) => event.id))].sort();
  return prisma.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ event_id: string }[]>`
      INSERT INTO inbox_events ("group", event_id, handled_at)
      SELECT ${group}, id, now() FROM unnest(${ids}::text[]) AS ids (id) ORDER BY id
      ON CONFLICT DO NOTHING
      RETURNING event_id`;
    const inserted = new Set(rows.map((row) => row.event_id));
    const handled: E[] = [];
    const skipped: E[] = [];
    for (const event of events) {
      if (inserted.delete(event.id)) handled.push(event); // delete: a repeated id runs once
      else skipped.push(event);
    }
    if (handled.length === 0) return { handled, skipped, result: undefined };
    return { handled, skipped, result: await fn(tx, handled) };
  });
}
