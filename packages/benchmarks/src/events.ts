/**
 * Event pipeline benchmark: outbox -> relay -> Redis Streams -> consumer group -> handleOnce.
 *
 *   npx tsx packages/benchmarks/src/events.ts [--events 60000] [--tx-size 10] [--producers 8]
 *     [--partitions 8] [--consumers 1] [--rate 0] [--relay-batch 500] [--read-batch 50]
 *     [--consumer-mode batch|single] [--max-batch 500]
 *     [--aggregates 2000] [--warmup 0.1] [--timeout-s 100] [--profile] [--out <file>|--no-out]
 *
 * Three kinds of processes, as in the distributed mode: this one (orchestrator: databases, checks,
 * report), one producer (Prisma transactions writing bench_tasks + outbox rows, the real outbox relay
 * publishing to the Redis bus) and --consumers consumers (one consumer group, handleOnce into their
 * own database). Every flag also reads an env variable: --tx-size <-> BENCH_TX_SIZE, etc.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from './args';
import { machine, packageDir, percentile } from './report';

// ---------------------------------------------------------------------------------------------
// Parameters

interface Params {
  events: number;
  txSize: number;
  producers: number;
  partitions: number;
  consumers: number;
  /** Offered load in events/s; 0 = as fast as the producers can commit (closed loop). */
  rate: number;
  relayBatch: number;
  readBatch: number;
  /** 'single': subscribe + handleOnce (one transaction per event); 'batch': subscribeBatch + handleBatchOnce. */
  consumerMode: 'single' | 'batch';
  /** Events per handler call in batch mode. */
  maxBatch: number;
  aggregates: number;
  /** Fraction of events (in commit order) left out of the steady-state figures. */
  warmup: number;
  timeoutS: number;
  profile: boolean;
  out: string | null;
  postgresUrl: string;
  redisUrl: string;
}

const HELP = `usage: npx tsx packages/benchmarks/src/events.ts [options]
  --events N        events to produce (BENCH_EVENTS, default 60000)
  --tx-size N       events per producer transaction (BENCH_TX_SIZE, default 10)
  --producers N     concurrent producer transactions (BENCH_PRODUCERS, default 8)
  --partitions N    partitions of the bus (BENCH_PARTITIONS, default 8)
  --consumers N     consumer processes in the group (BENCH_CONSUMERS, default 1)
  --rate N          offered events/s, 0 = unthrottled (BENCH_RATE, default 0)
  --relay-batch N   outbox relay rows per publish (BENCH_RELAY_BATCH, default 500)
  --read-batch N    consumer entries per XREADGROUP (BENCH_READ_BATCH, default 50; batch mode reads >= --max-batch)
  --consumer-mode M single (subscribe + handleOnce per event) or batch (subscribeBatch + handleBatchOnce)
                    (BENCH_CONSUMER_MODE, default batch)
  --max-batch N     events per batch handler call in batch mode (BENCH_MAX_BATCH, default 500)
  --aggregates N    distinct tasks (BENCH_AGGREGATES, default 2000)
  --warmup F        fraction of events excluded as warm-up (BENCH_WARMUP, default 0.1)
  --timeout-s N     give up after N seconds (BENCH_TIMEOUT_S, default 100)
  --profile         --cpu-prof every child process into /tmp/bench-helper/profiles
  --out FILE        result JSON (default packages/benchmarks/results/events-<date>.json); --no-out: none
  env BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres), BENCH_REDIS_URL (redis://127.0.0.1:6379)`;

function parseParams(argv: readonly string[]): Params {
  const { raw, number, flag } = parseArgs(argv, {
    help: HELP,
    values: ['events', 'tx-size', 'producers', 'partitions', 'consumers', 'rate', 'relay-batch', 'read-batch',
      'consumer-mode', 'max-batch', 'aggregates', 'warmup', 'timeout-s', 'out', 'role', 'config'],
    flags: ['profile', 'no-out'],
  });
  const params: Params = {
    events: number('events', 60_000),
    txSize: number('tx-size', 10),
    producers: number('producers', 8),
    partitions: number('partitions', 8),
    consumers: number('consumers', 1),
    rate: number('rate', 0, { min: 0 }),
    relayBatch: number('relay-batch', 500),
    readBatch: number('read-batch', 50),
    consumerMode: consumerMode(raw('consumer-mode') ?? 'batch'),
    maxBatch: number('max-batch', 500),
    aggregates: number('aggregates', 2000),
    warmup: number('warmup', 0.1, { min: 0, integer: false }),
    timeoutS: number('timeout-s', 100),
    profile: raw('profile') === 'true' || raw('profile') === '1',
    out: flag('no-out') ? null : (raw('out') ?? defaultOutFile()),
    postgresUrl: process.env.BENCH_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
    redisUrl: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
  };
  if (params.warmup >= 0.9) throw new Error('--warmup must be below 0.9');
  if (params.aggregates < params.producers) params.aggregates = params.producers;
  return params;
}

function consumerMode(value: string): Params['consumerMode'] {
  if (value !== 'single' && value !== 'batch') throw new Error(`--consumer-mode (BENCH_CONSUMER_MODE) must be single or batch, got "${value}"`);
  return value;
}

function defaultOutFile(): string {
  const stamp = new Date().toISOString().replace(/:/g, '-').replace(/\..*$/, '');
  return path.join(packageDir(), 'results', `events-${stamp}.json`);
}


// ---------------------------------------------------------------------------------------------
// Shared by the processes

/** What the orchestrator hands to its children (as JSON in argv). */
interface RunConfig {
  params: Params;
  producerDbUrl: string;
  consumerDbUrl: string;
  streamPrefix: string;
  group: string;
}

type ChildMessage =
  | { kind: 'ready' }
  | { kind: 'progress'; handled: number; duplicates: number }
  | { kind: 'produced'; ids: string[]; committedAt: number[]; startedAt: number; finishedAt: number; publishedAt: number }
  | { kind: 'consumed'; ids: string[]; handledAt: number[]; duplicates: number; failures: number };

type ParentMessage = { kind: 'start' } | { kind: 'stop' };

/** Wall clock with sub-millisecond resolution, comparable between processes of one machine. */
function now(): number {
  return performance.timeOrigin + performance.now();
}

const GROUP_TYPES = ['task.created', 'task.updated'] as const;

// Same tables as prisma/schema.prisma (what a migration would create); applied with plain SQL,
// with the event bridge's outbox and inbox tables.
const BENCH_TABLES_SQL = `
CREATE TABLE bench_tasks (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  revision INTEGER NOT NULL DEFAULT 0,
  updated_at TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);
CREATE TABLE bench_projections (
  aggregate_id TEXT PRIMARY KEY,
  event_count INTEGER NOT NULL DEFAULT 0,
  last_event_id TEXT NOT NULL,
  out_of_order INTEGER NOT NULL DEFAULT 0
);
`;

/** The generated client is gitignored: generate it on first use so the benchmark runs from a fresh checkout. */
async function loadPrismaClient() {
  const client = path.join(__dirname, 'generated', 'prisma', 'client.ts');
  if (!existsSync(client)) {
    const generator = require.resolve('@meridian/codegen/bin/meridian-prisma-generate.js');
    execFileSync(process.execPath, [generator, path.join(packageDir(), 'prisma', 'schema.prisma')], { stdio: 'inherit' });
  }
  const { PrismaClient } = await import('./generated/prisma/client');
  const { PrismaPg } = await import('@prisma/adapter-pg');
  return (connectionString: string, max: number) => new PrismaClient({ adapter: new PrismaPg({ connectionString, max }) });
}

/** Resolves once the message is handed to the IPC channel (large messages must be flushed before exit). */
function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve, reject) => process.send!(message, undefined, {}, (error) => (error ? reject(error) : resolve())));
}

function onParentMessage(kind: ParentMessage['kind']): Promise<void> {
  return new Promise((resolve) => {
    const listener = (message: ParentMessage) => {
      if (message.kind === kind) {
        process.off('message', listener);
        resolve();
      }
    };
    process.on('message', listener);
  });
}

// ---------------------------------------------------------------------------------------------
// Producer process: Prisma transactions (domain change + writeOutbox), relay -> Redis bus

async function runProducer(config: RunConfig) {
  const { params } = config;
  const { createOutboxRelay, writeOutbox } = await import('@meridian/event-bridge');
  const { createDomainEvent, createPlatformEventBusRedis } = await loadDomain();
  const createPrisma = await loadPrismaClient();
  const prisma = createPrisma(config.producerDbUrl, params.producers + 2);
  const bus = createPlatformEventBusRedis(config);
  const relay = createOutboxRelay({ prisma, bus, batchSize: params.relayBatch });

  const ids: string[] = [];
  const committedAt: number[] = [];
  const actorId = 'bench-user';
  await send({ kind: 'ready' });
  await onParentMessage('start');

  const startedAt = now();
  let issued = 0;
  // Producer loop i owns tasks i, i + P, i + 2P...: one aggregate is written by one loop, one
  // transaction at a time (per-aggregate order is then the commit order, as in a real service).
  async function producerLoop(loop: number) {
    const owned: string[] = [];
    for (let index = loop; index < params.aggregates; index += params.producers) owned.push(`task-${index}`);
    const created = new Set<string>();
    let cursor = 0;
    let transactions = 0;
    const loopRate = params.rate / params.producers; // events/s of this loop
    for (;;) {
      const size = Math.min(params.txSize, params.events - issued);
      if (size <= 0) return;
      issued += size;
      if (loopRate > 0) {
        const due = startedAt + ((transactions * params.txSize) / loopRate) * 1000;
        const wait = due - now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      transactions++;
      const tasks = Array.from({ length: size }, () => owned[cursor++ % owned.length]!);
      // A transaction never touches one task twice (its events would need an order inside the batch).
      const unique = [...new Set(tasks)];
      const fresh = unique.filter((id) => !created.has(id));
      const updated = unique.filter((id) => created.has(id));
      const title = `title ${transactions}`;
      const events = [
        ...fresh.map((taskId) =>
          createDomainEvent('task.created', {
            payload: {
              taskId, projectId: null, title, priority: 'MEDIUM', dueAt: null, createdById: actorId,
              assigneeId: null, actorId, status: 'TODO',
            },
          }),
        ),
        ...updated.map((taskId) =>
          createDomainEvent('task.updated', {
            payload: {
              taskId, projectId: null, title, priority: 'MEDIUM', dueAt: null, createdById: actorId,
              assigneeId: null, actorId, changedFields: ['title'], previousStatus: 'TODO', newStatus: 'TODO',
            },
          }),
        ),
      ];
      issued -= size - events.length;
      await prisma.$transaction(async (tx) => {
        if (fresh.length > 0) await tx.benchTask.createMany({ data: fresh.map((id) => ({ id, title })) });
        if (updated.length > 0) {
          await tx.benchTask.updateMany({ where: { id: { in: updated } }, data: { title, revision: { increment: 1 } } });
        }
        await writeOutbox(tx, events);
      });
      const at = now();
      for (const event of events) {
        ids.push(event.id);
        committedAt.push(at);
      }
      for (const id of fresh) created.add(id);
      relay.notify(); // as a service does after a transaction that wrote to the outbox
    }
  }
  await Promise.all(Array.from({ length: params.producers }, (_, loop) => producerLoop(loop)));
  const finishedAt = now();
  // Everything committed: drain the outbox (the relay keeps polling meanwhile).
  for (;;) {
    await relay.flush();
    const [row] = await prisma.$queryRaw<{ pending: bigint }[]>`SELECT count(*) AS pending FROM outbox_events WHERE published_at IS NULL`;
    if (Number(row?.pending ?? 0) === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const publishedAt = now();
  await send({ kind: 'produced', ids, committedAt, startedAt, finishedAt, publishedAt });
  await onParentMessage('stop');
  await relay.stop();
  await bus.close();
  await prisma.$disconnect();
}

// ---------------------------------------------------------------------------------------------
// Consumer process: one member of the group, handleOnce (inbox + projection) in its own database

async function runConsumer(config: RunConfig, index: number) {
  const { params } = config;
  const { handleBatchOnce, handleOnce } = await import('@meridian/event-bridge');
  const { createPlatformEventBusRedis } = await loadDomain();
  const createPrisma = await loadPrismaClient();
  const prisma = createPrisma(config.consumerDbUrl, params.partitions + 2);
  const bus = createPlatformEventBusRedis(config);
  const ids: string[] = [];
  const handledAt: number[] = [];
  let duplicates = 0;
  let failures = 0;

  const record = (handled: readonly { id: string }[], skipped: number) => {
    const at = now();
    for (const event of handled) {
      ids.push(event.id);
      handledAt.push(at);
    }
    duplicates += skipped;
  };
  const consumerName = `bench-consumer-${index}-${process.pid}`;
  const subscription =
    params.consumerMode === 'single'
      ? await bus.subscribe({
          group: config.group,
          consumerName,
          types: [...GROUP_TYPES],
          handler: async (event, { attempt }) => {
            if (attempt > 1) failures++;
            const result = await handleOnce(prisma, config.group, event, async (tx) => {
              // The effect: a read model per aggregate. A smaller id than the last one seen = out of order.
              await tx.$executeRaw`
                INSERT INTO bench_projections AS p (aggregate_id, event_count, last_event_id)
                VALUES (${event.aggregateId}, 1, ${event.id})
                ON CONFLICT (aggregate_id) DO UPDATE SET
                  event_count = p.event_count + 1,
                  last_event_id = GREATEST(p.last_event_id, EXCLUDED.last_event_id),
                  out_of_order = p.out_of_order + CASE WHEN p.last_event_id > EXCLUDED.last_event_id THEN 1 ELSE 0 END`;
            });
            if (result.handled) record([event], 0);
            else record([], 1);
          },
        })
      : await bus.subscribeBatch({
          group: config.group,
          consumerName,
          types: [...GROUP_TYPES],
          maxBatchSize: params.maxBatch,
          handler: async (events, { attempt }) => {
            if (attempt > 1) failures++;
            const result = await handleBatchOnce(prisma, config.group, events, async (tx, fresh) => {
              // The same effect for a batch, one statement: per aggregate the count, first and last id
              // of its events in the batch, and how many of them came out of order within the batch.
              const byAggregate = new Map<string, { count: number; first: string; last: string; outOfOrder: number }>();
              for (const event of fresh) {
                const entry = byAggregate.get(event.aggregateId);
                if (!entry) byAggregate.set(event.aggregateId, { count: 1, first: event.id, last: event.id, outOfOrder: 0 });
                else {
                  entry.count++;
                  if (event.id < entry.last) entry.outOfOrder++;
                  else entry.last = event.id;
                }
              }
              const rows = [...byAggregate.entries()];
              await tx.$executeRaw`
                INSERT INTO bench_projections AS p (aggregate_id, event_count, last_event_id, out_of_order)
                SELECT * FROM unnest(${rows.map(([id]) => id)}::text[], ${rows.map(([, row]) => row.count)}::int[],
                  ${rows.map(([, row]) => row.last)}::text[], ${rows.map(([, row]) => row.outOfOrder)}::int[])
                ON CONFLICT (aggregate_id) DO UPDATE SET
                  event_count = p.event_count + EXCLUDED.event_count,
                  last_event_id = GREATEST(p.last_event_id, EXCLUDED.last_event_id),
                  out_of_order = p.out_of_order + EXCLUDED.out_of_order + CASE WHEN p.last_event_id > (
                    SELECT f FROM unnest(${rows.map(([id]) => id)}::text[], ${rows.map(([, row]) => row.first)}::text[]) AS firsts (a, f)
                    WHERE a = EXCLUDED.aggregate_id) THEN 1 ELSE 0 END`;
            });
            record(result.handled, result.skipped.length);
          },
        });
  const progress = setInterval(() => void send({ kind: 'progress', handled: ids.length, duplicates }).catch(() => undefined), 100);
  await send({ kind: 'ready' });
  await onParentMessage('stop');
  clearInterval(progress);
  await subscription.close();
  await send({ kind: 'progress', handled: ids.length, duplicates });
  await send({ kind: 'consumed', ids, handledAt, duplicates, failures });
  await bus.close();
  await prisma.$disconnect();
}

async function loadDomain() {
  const { createDomainEvent, domainEventRegistry } = await import('@meridian/domain-events');
  const { createRedisEventBus } = await import('@meridian/event-bridge');
  const createPlatformEventBusRedis = (config: RunConfig) =>
    createRedisEventBus({
      registry: domainEventRegistry,
      redis: config.params.redisUrl,
      streamPrefix: config.streamPrefix,
      partitions: config.params.partitions,
      batchSize: config.params.readBatch,
      retention: { maxLength: Math.max(100_000, config.params.events) },
    });
  return { createDomainEvent, createPlatformEventBusRedis };
}

// ---------------------------------------------------------------------------------------------
// Orchestrator

async function ensurePostgres(adminUrl: string) {
  const pg = (await import('pg')).default;
  const tryConnect = async () => {
    const client = new pg.Client({ connectionString: adminUrl });
    try {
      await client.connect();
      const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
      return rows[0]?.server_version ?? 'unknown';
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  try {
    return await tryConnect();
  } catch {
    const versions = existsSync('/etc/postgresql') ? execFileSync('ls', ['/etc/postgresql']).toString().trim().split(/\s+/) : [];
    if (versions.length === 0) throw new Error(`PostgreSQL is not reachable at ${adminUrl} and no local cluster was found`);
    console.log(`PostgreSQL is down; starting cluster ${versions[0]}/main`);
    execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', versions[0]!, 'main', 'start'], { stdio: 'inherit' });
    for (let attempt = 0; ; attempt++) {
      try {
        return await tryConnect();
      } catch (error) {
        if (attempt > 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }
}



async function orchestrate(params: Params) {
  const started = Date.now();
  const { ensurePostgresDatabase, dropPostgresDatabase } = await import('@meridian/database');
  const { Redis } = await import('ioredis');
  const pg = (await import('pg')).default;
  await loadPrismaClient(); // generate once here, not concurrently in the children

  const postgresVersion = await ensurePostgres(params.postgresUrl);
  const redis = new Redis(params.redisUrl);
  const redisVersion = ((await redis.info('server')).match(/redis_version:(\S+)/)?.[1]) ?? 'unknown';
  const suffix = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const dbUrl = (name: string) => {
    const url = new URL(params.postgresUrl);
    url.pathname = `/${name}`;
    return url.toString();
  };
  const config: RunConfig = {
    params,
    producerDbUrl: dbUrl(`bench_events_producer_${suffix}`),
    consumerDbUrl: dbUrl(`bench_events_consumer_${suffix}`),
    streamPrefix: `bench:events:${suffix}`,
    group: 'bench-consumer',
  };
  const children: ChildProcess[] = [];
  const cleanup = async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.all([dropPostgresDatabase(config.producerDbUrl), dropPostgresDatabase(config.consumerDbUrl)]).catch((error) =>
      console.error('could not drop the bench databases:', error),
    );
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${config.streamPrefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
    redis.disconnect();
  };

  try {
    const { OUTBOX_INBOX_TABLES_SQL } = await import('@meridian/event-bridge');
    for (const url of [config.producerDbUrl, config.consumerDbUrl]) {
      await ensurePostgresDatabase(url);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(BENCH_TABLES_SQL + OUTBOX_INBOX_TABLES_SQL);
      await client.end();
    }

    const profileDir = '/tmp/bench-helper/profiles';
    if (params.profile) mkdirSync(profileDir, { recursive: true });
    const spawn = (role: string) => {
      const child = fork(__filename, ['--role', role, '--config', JSON.stringify(config)], {
        execArgv: [...process.execArgv, ...(params.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      children.push(child);
      return child;
    };
    const messages = (child: ChildProcess) => {
      const queue: ChildMessage[] = [];
      let waiting: ((message: ChildMessage) => void) | undefined;
      child.on('message', (message: ChildMessage) => {
        if (waiting) {
          const resolve = waiting;
          waiting = undefined;
          resolve(message);
        } else queue.push(message);
      });
      return {
        async next<K extends ChildMessage['kind']>(kind: K, deadline: number): Promise<Extract<ChildMessage, { kind: K }>> {
          for (;;) {
            const message =
              queue.shift() ??
              (await new Promise<ChildMessage>((resolve, reject) => {
                const timer = setTimeout(() => reject(new Error(`timed out waiting for "${kind}" from a child process`)), Math.max(0, deadline - Date.now()));
                // 'exit' can come before the last IPC messages are emitted: give them a moment.
                const onExit = (code: number | null) =>
                  setTimeout(() => reject(new Error(`a child process exited (code ${code}) before sending "${kind}"`)), 500);
                child.once('exit', onExit);
                waiting = (message) => {
                  clearTimeout(timer);
                  child.off('exit', onExit);
                  resolve(message);
                };
              }));
            if (message.kind === kind) return message as Extract<ChildMessage, { kind: K }>;
          }
        },
      };
    };

    const deadline = started + params.timeoutS * 1000;
    const consumers = Array.from({ length: params.consumers }, (_, index) => spawn(`consumer:${index}`));
    const consumerInbox = consumers.map(messages);
    const handled = new Array<number>(params.consumers).fill(0);
    consumers.forEach((child, index) =>
      child.on('message', (message: ChildMessage) => {
        if (message.kind === 'progress') handled[index] = message.handled;
      }),
    );
    const producer = spawn('producer');
    const producerInbox = messages(producer);
    await Promise.all([producerInbox.next('ready', deadline), ...consumerInbox.map((inbox) => inbox.next('ready', deadline))]);
    console.log(
      `events ${params.events}, tx size ${params.txSize}, producers ${params.producers}, partitions ${params.partitions}, ` +
        `consumers ${params.consumers}, rate ${params.rate || 'unthrottled'}, relay batch ${params.relayBatch}, read batch ${params.readBatch}, ` +
        `consumer mode ${params.consumerMode}${params.consumerMode === 'batch' ? ` (max batch ${params.maxBatch})` : ''}`,
    );
    producer.send({ kind: 'start' } satisfies ParentMessage);
    const produced = await producerInbox.next('produced', deadline);
    console.log(`produced ${produced.ids.length} events in ${((produced.finishedAt - produced.startedAt) / 1000).toFixed(1)} s`);
    const total = produced.ids.length;
    while (handled.reduce((sum, count) => sum + count, 0) < total) {
      if (Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Some time for duplicates (if any) to show up before stopping.
    for (const child of [...consumers, producer]) child.send({ kind: 'stop' } satisfies ParentMessage);
    const consumed = await Promise.all(consumerInbox.map((inbox) => inbox.next('consumed', Date.now() + 30_000)));
    await Promise.all(children.map((child) => (child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined)));

    // --- verification (from the databases, not from what the processes say)
    const consumerDb = new pg.Client({ connectionString: config.consumerDbUrl });
    await consumerDb.connect();
    const inbox = await consumerDb.query<{ rows: string; distinct_ids: string }>(
      'SELECT count(*) AS rows, count(DISTINCT event_id) AS distinct_ids FROM inbox_events WHERE "group" = $1',
      [config.group],
    );
    const projection = await consumerDb.query<{ events: string | null; out_of_order: string | null }>(
      'SELECT sum(event_count) AS events, sum(out_of_order) AS out_of_order FROM bench_projections',
    );
    const inboxIds = new Set((await consumerDb.query<{ event_id: string }>('SELECT event_id FROM inbox_events')).rows.map((row) => row.event_id));
    await consumerDb.end();
    const producerDb = new pg.Client({ connectionString: config.producerDbUrl });
    await producerDb.connect();
    const outbox = await producerDb.query<{ rows: string; unpublished: string }>(
      'SELECT count(*) AS rows, count(*) FILTER (WHERE published_at IS NULL) AS unpublished FROM outbox_events',
    );
    await producerDb.end();
    const missing = produced.ids.filter((id) => !inboxIds.has(id)).length;
    const handledIds = consumed.flatMap((result) => result.ids);
    const verification = {
      produced: total,
      outboxRows: Number(outbox.rows[0]!.rows),
      outboxUnpublished: Number(outbox.rows[0]!.unpublished),
      inboxRows: Number(inbox.rows[0]!.rows),
      inboxDistinct: Number(inbox.rows[0]!.distinct_ids),
      effects: Number(projection.rows[0]!.events ?? 0),
      missing,
      duplicateEffects: handledIds.length - new Set(handledIds).size,
      redeliveriesSkippedByInbox: consumed.reduce((sum, result) => sum + result.duplicates, 0),
      handlerRetries: consumed.reduce((sum, result) => sum + result.failures, 0),
      outOfOrder: Number(projection.rows[0]!.out_of_order ?? 0),
      ok: false,
    };
    verification.ok =
      verification.outboxRows === total &&
      verification.outboxUnpublished === 0 &&
      verification.inboxRows === total &&
      verification.inboxDistinct === total &&
      verification.effects === total &&
      missing === 0 &&
      verification.duplicateEffects === 0 &&
      verification.outOfOrder === 0;

    // --- figures
    const commitOf = new Map<string, number>();
    produced.ids.forEach((id, index) => commitOf.set(id, produced.committedAt[index]!));
    const samples: { committed: number; handled: number }[] = [];
    for (const result of consumed) {
      result.ids.forEach((id, index) => {
        const committed = commitOf.get(id);
        if (committed !== undefined) samples.push({ committed, handled: result.handledAt[index]! });
      });
    }
    samples.sort((a, b) => a.committed - b.committed);
    const steady = samples.slice(Math.floor(samples.length * params.warmup));
    const latencies = steady.map((sample) => sample.handled - sample.committed).sort((a, b) => a - b);
    const handledTimes = samples.map((sample) => sample.handled).sort((a, b) => a - b);
    const committedTimes = samples.map((sample) => sample.committed);
    // Steady state: from the end of the warm-up to the 95th percentile of completions (drops the tail).
    const rateBetween = (times: readonly number[], from: number, to: number) => {
      const first = Math.floor(times.length * from);
      const last = Math.max(first + 1, Math.ceil(times.length * to) - 1);
      const span = (times[last]! - times[first]!) / 1000;
      return span > 0 ? (last - first) / span : NaN;
    };
    const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
    const figures = {
      handledPerSecond: round(rateBetween(handledTimes, params.warmup, 0.95), 0),
      committedPerSecond: round(rateBetween(committedTimes, params.warmup, 0.95), 0),
      endToEndPerSecond: round(total / ((handledTimes[handledTimes.length - 1]! - produced.startedAt) / 1000), 0),
      latencyMs: {
        p50: round(percentile(latencies, 50)),
        p95: round(percentile(latencies, 95)),
        p99: round(percentile(latencies, 99)),
        max: round(latencies[latencies.length - 1] ?? NaN),
      },
      produceSeconds: round((produced.finishedAt - produced.startedAt) / 1000, 2),
      drainSeconds: round((handledTimes[handledTimes.length - 1]! - produced.startedAt) / 1000, 2),
    };
    const target = { eventsPerSecond: 5000, p99Ms: 1000 };
    const meetsTarget = figures.handledPerSecond >= target.eventsPerSecond && figures.latencyMs.p99 < target.p99Ms;

    const rows: [string, string][] = [
      ['handled events/s (steady state)', String(figures.handledPerSecond)],
      ['committed events/s (steady state)', String(figures.committedPerSecond)],
      ['end-to-end events/s (first commit -> last handled)', String(figures.endToEndPerSecond)],
      ['commit -> handled p50 (ms)', String(figures.latencyMs.p50)],
      ['commit -> handled p95 (ms)', String(figures.latencyMs.p95)],
      ['commit -> handled p99 (ms)', String(figures.latencyMs.p99)],
      ['commit -> handled max (ms)', String(figures.latencyMs.max)],
      ['events produced / inbox rows / effects', `${total} / ${verification.inboxRows} / ${verification.effects}`],
      ['missing / duplicate effects / out of order', `${missing} / ${verification.duplicateEffects} / ${verification.outOfOrder}`],
      ['redeliveries skipped by the inbox', String(verification.redeliveriesSkippedByInbox)],
      ['exactly once, in order', verification.ok ? 'yes' : 'NO'],
      [`target (>= ${target.eventsPerSecond}/s, p99 < ${target.p99Ms} ms)`, meetsTarget ? 'met' : 'not met'],
    ];
    const width = Math.max(...rows.map(([label]) => label.length));
    console.log('');
    for (const [label, value] of rows) console.log(`${label.padEnd(width)}  ${value}`);

    const result = {
      benchmark: `events: outbox -> relay -> Redis Streams -> consumer group -> ${params.consumerMode === 'batch' ? 'subscribeBatch + handleBatchOnce' : 'subscribe + handleOnce'}`,
      date: new Date().toISOString(),
      machine: { ...machine(), postgres: postgresVersion, redis: redisVersion },
      params: { ...params, postgresUrl: undefined, redisUrl: undefined, out: undefined },
      figures,
      target: { ...target, met: meetsTarget },
      verification,
      wallSeconds: round((Date.now() - started) / 1000, 1),
    };
    if (params.out) {
      mkdirSync(path.dirname(params.out), { recursive: true });
      writeFileSync(params.out, `${JSON.stringify(result, null, 2)}\n`);
      console.log(`\nresult written to ${path.relative(process.cwd(), params.out)}`);
    }
    if (!verification.ok) process.exitCode = 1;
  } finally {
    await cleanup();
  }
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const argv = process.argv.slice(2);
  const roleIndex = argv.indexOf('--role');
  if (roleIndex >= 0) {
    const role = argv[roleIndex + 1]!;
    const config = JSON.parse(argv[argv.indexOf('--config') + 1]!) as RunConfig;
    if (role === 'producer') await runProducer(config);
    else await runConsumer(config, Number(role.split(':')[1]));
    process.disconnect?.();
    return;
  }
  await orchestrate(parseParams(argv));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
