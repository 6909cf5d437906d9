/**
 * Soak benchmark (not a test): sustained mixed load on the whole platform for minutes, reporting
 * the error count (target 0) and how memory evolves (target: flat).
 *
 *   npm run bench:soak -- [--duration-s 300] [--query-rate 40] [--mutation-rate 4] [--subscribers 40]
 *     [--users 10] [--sample-s 10] [--out <file>|--no-out]
 *
 * Two processes, so the platform's memory is its own:
 * - platform (child, `--expose-gc`): every subgraph and the gateway (`startPlatform`: embedded by
 *   default; PostgreSQL and Redis when the usual *_DATABASE_URL / REDIS_URL variables are set);
 *   on request it collects garbage and reports `process.memoryUsage()` and the gateway's stats;
 * - orchestrator (this command): signs up users, then for the whole duration sends queries that
 *   span subgraphs, mutations (create and update tasks) at fixed rates, and keeps graphql-ws
 *   subscriptions open, counting every event; any non-200, GraphQL error, failed request or
 *   subscription that ends or errors counts as an error.
 * Memory: samples every --sample-s after a forced GC; growth is reported between the end of the
 * warm-up (first 20 % of the run) and the end, plus the least-squares slope (MB/min) over that span.
 * Every flag also reads an env variable: --duration-s <-> BENCH_DURATION_S, etc.
 */
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { parseArgs } from './args';
import { machine, packageDir, percentile } from './report';
import { BENCHMARK_RATE_BUDGETS } from './budgets';

interface Params {
  durationS: number;
  queryRate: number;
  mutationRate: number;
  subscribers: number;
  users: number;
  sampleS: number;
  concurrency: number;
  out: string | null;
}

const HELP = `usage: npm run bench:soak -- [options]
  --duration-s N     seconds of sustained load (BENCH_DURATION_S, default 300)
  --query-rate N     queries/s, spread over several shapes (BENCH_QUERY_RATE, default 40)
  --mutation-rate N  mutations/s (createTask / updateTask) (BENCH_MUTATION_RATE, default 4)
  --subscribers N    graphql-ws taskChanged subscriptions kept open (BENCH_SUBSCRIBERS, default 40)
  --users N          users the load is spread over (BENCH_USERS, default 10)
  --sample-s N       seconds between memory samples (BENCH_SAMPLE_S, default 10)
  --concurrency N    most requests in flight per kind (queries, mutations) (BENCH_CONCURRENCY, default 8)
  --out FILE         result JSON (default packages/benchmarks/results/soak-<date>.json); --no-out: none`;

function parseParams(argv: readonly string[]): Params {
  const args = parseArgs(argv, {
    help: HELP,
    values: ['duration-s', 'query-rate', 'mutation-rate', 'subscribers', 'users', 'sample-s', 'concurrency', 'out'],
    flags: ['no-out'],
  });
  const number = (name: string, fallback: number, min: number) => args.number(name, fallback, { min });
  const params: Params = {
    durationS: number('duration-s', 300, 10),
    queryRate: number('query-rate', 40, 0),
    mutationRate: number('mutation-rate', 4, 0),
    subscribers: number('subscribers', 40, 0),
    users: number('users', 10, 1),
    sampleS: number('sample-s', 10, 1),
    concurrency: number('concurrency', 8, 1),
    out: null,
  };
  if (!args.flag('no-out')) {
    params.out = args.raw('out') ?? path.join(packageDir(), 'results', `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  }
  return params;
}

// ---------------------------------------------------------------------------------------------
// Platform process

interface Sample {
  atS: number;
  rssMB: number;
  heapUsedMB: number;
  externalMB: number;
  gateway: { subscribers: number; upstreamSubscriptions: number; openWebSockets: number };
}

async function runPlatform() {
  const { startPlatform } = await import('@meridian/launcher');
  const platform = await startPlatform({
    env: {
      DATA_DIR: ':memory:',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
      ...BENCHMARK_RATE_BUDGETS,
      ...['AUTH', 'USER', 'TASK', 'NOTIFICATION', 'ANALYTICS', 'GATEWAY'].reduce((ports, name) => ({ ...ports, [`${name}_PORT`]: '0' }), {}),
    },
  });
  process.send?.({ type: 'ready', url: platform.gatewayUrl });
  process.on('message', async (message: { type: string }) => {
    if (message.type === 'sample') {
      (globalThis as { gc?: () => void }).gc?.();
      const memory = process.memoryUsage();
      const stats = platform.services.gateway.stats();
      process.send?.({
        type: 'sample',
        rssMB: memory.rss / 2 ** 20,
        heapUsedMB: memory.heapUsed / 2 ** 20,
        externalMB: memory.external / 2 ** 20,
        gateway: { subscribers: stats.subscribers, upstreamSubscriptions: stats.upstreamSubscriptions, openWebSockets: stats.openWebSockets },
      });
    }
    if (message.type === 'stop') {
      await platform.stop();
      process.exit(0);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Orchestrator

async function post(url: string, query: string, variables: Record<string, unknown>, token?: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: Record<string, any>; errors?: unknown[] };
  if (response.status !== 200 || body.errors?.length) throw new Error(`HTTP ${response.status}: ${JSON.stringify(body.errors ?? body).slice(0, 300)}`);
  return body.data!;
}

const QUERIES = [
  '{ me { displayName assignedTasks(first: 5) { edges { node { title assignee { displayName } } } } } }',
  '{ me { displayName stats { tasksCreated tasksCompleted } } }',
  '{ tasks(first: 10) { edges { node { title status assignee { displayName } } } } }',
  '{ dashboardStats { totals { tasksCreated activeUsers } } }',
  '{ me { notifications(first: 5) { edges { node { title } } } } }',
];

async function orchestrate(params: Params) {
  const child = fork(__filename, ['--role', 'platform'], { execArgv: ['--import', 'tsx', '--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const messages: ((message: any) => void)[] = [];
  child.on('message', (message) => messages.shift()?.(message));
  const next = () => new Promise<any>((resolve) => messages.push(resolve));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const ready = await Promise.race([next(), exited.then(() => ({ type: 'exited' }))]);
  if (ready.type !== 'ready') throw new Error('the platform process exited during start-up');
  const url: string = ready.url;
  console.log(`platform ready at ${url}; soaking for ${params.durationS} s`);

  const users: { token: string; id: string }[] = [];
  for (let i = 0; i < params.users; i += 1) {
    const data = await post(url, 'mutation($input: SignUpInput!) { signUp(input: $input) { accessToken user { id } } }', {
      input: { email: `soak-${Date.now()}-${i}@example.com`, password: 'correct horse battery staple', displayName: `Soak ${i}` },
    });
    users.push({ token: data.signUp.accessToken, id: data.signUp.user.id });
  }
  const userAt = (i: number) => users[i % users.length]!;

  const counts = { queries: 0, mutations: 0, events: 0, errors: 0 };
  const errorSamples: string[] = [];
  const latencies: number[] = [];
  const fail = (what: string, error: unknown) => {
    counts.errors += 1;
    if (errorSamples.length < 20) errorSamples.push(`${what}: ${describe(error)}`);
  };
  const taskIds: string[] = [];
  let stopping = false;

  // Subscriptions: they must stay open for the whole run; an end or an error is an error.
  const clients: Client[] = [];
  for (let i = 0; i < params.subscribers; i += 1) {
    const user = userAt(i);
    let connected!: () => void;
    const acknowledged = new Promise<void>((resolve) => (connected = resolve));
    const client = createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${user.token}` },
      retryAttempts: 0,
      lazy: false,
      on: { connected: () => connected(), closed: () => connected() },
    });
    clients.push(client);
    client.subscribe(
      { query: 'subscription { taskChanged { cursor kind task { title assignee { displayName } } } }' },
      {
        next: (result) => {
          if (result.errors?.length) fail('subscription event', result.errors);
          else counts.events += 1;
        },
        error: (error) => !stopping && fail('subscription', error),
        complete: () => !stopping && fail('subscription', new Error('completed before the end of the run')),
      },
    );
    // One connection at a time: the load starts once every subscriber is connected.
    await acknowledged;
  }
  console.log(`${params.subscribers} subscriptions open; load starts`);
  const started = performance.now();
  const endAt = started + params.durationS * 1000;

  /**
   * Runs `action` `rate` times per second until the end, with at most `--concurrency` in flight:
   * when the platform is slower than the offered rate, the run waits rather than piling up
   * requests (the achieved rate is reported; a soak is about errors and memory, not capacity).
   */
  async function paced(rate: number, action: (n: number) => Promise<void>) {
    if (rate === 0) return;
    const inFlight = new Set<Promise<void>>();
    for (let n = 0; performance.now() < endAt; n += 1) {
      const due = started + (n * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      while (inFlight.size >= params.concurrency) await Promise.race(inFlight);
      const run = action(n).finally(() => inFlight.delete(run));
      inFlight.add(run);
    }
    await Promise.all(inFlight);
  }

  const queries = paced(params.queryRate, async (n) => {
    const begin = performance.now();
    try {
      await post(url, QUERIES[n % QUERIES.length]!, {}, userAt(n).token);
      counts.queries += 1;
      latencies.push(performance.now() - begin);
    } catch (error) {
      fail('query', error);
    }
  });
  const mutations = paced(params.mutationRate, async (n) => {
    const user = userAt(n);
    try {
      const id = taskIds[n % 50];
      if (n % 2 === 1 && id) {
        await post(url, 'mutation($id: ID!, $t: String!) { updateTask(id: $id, input: { title: $t }) { id } }', { id, t: `Soak task ${n}` }, users[0]!.token);
      } else {
        const data = await post(url, 'mutation($t: String!, $a: ID) { createTask(input: { title: $t, assigneeId: $a }) { id } }', { t: `Soak task ${n}`, a: user.id }, users[0]!.token);
        if (taskIds.length < 50) taskIds.push(data.createTask.id);
      }
      counts.mutations += 1;
    } catch (error) {
      fail('mutation', error);
    }
  });

  const samples: Sample[] = [];
  const sampler = (async () => {
    for (;;) {
      const atS = (performance.now() - started) / 1000;
      child.send({ type: 'sample' });
      const sample = await next();
      samples.push({ atS: round(atS), rssMB: round(sample.rssMB), heapUsedMB: round(sample.heapUsedMB), externalMB: round(sample.externalMB), gateway: sample.gateway });
      const last = samples.at(-1)!;
      if (errorSamples.length) console.log(`  last error: ${errorSamples.at(-1)}`);
      console.log(
        `${String(Math.round(atS)).padStart(5)} s  rss ${last.rssMB.toFixed(1)} MB  heap ${last.heapUsedMB.toFixed(1)} MB  queries ${counts.queries}  mutations ${counts.mutations}  events ${counts.events}  errors ${counts.errors}`,
      );
      if (performance.now() >= endAt) return;
      await sleep(Math.min(params.sampleS * 1000, Math.max(0, endAt - performance.now())));
    }
  })();

  await Promise.all([queries, mutations, sampler]);
  stopping = true;
  const openAtEnd = samples.at(-1)?.gateway.subscribers ?? 0;
  if (openAtEnd < params.subscribers) fail('subscriptions', new Error(`${openAtEnd} of ${params.subscribers} subscriptions still open at the end`));
  await Promise.all(clients.map((client) => client.dispose()));
  child.send({ type: 'stop' });
  await exited;

  const steady = samples.filter((sample) => sample.atS >= params.durationS * 0.2);
  const first = steady[0] ?? samples[0]!;
  const last = samples.at(-1)!;
  const sorted = Float64Array.from(latencies).sort();
  const result = {
    benchmark: 'soak',
    // Relative to the package: results are committed, machine paths are not.
    params: { ...params, out: params.out && path.relative(packageDir(), params.out) },
    machine: machine(),
    counts,
    errorSamples,
    // Offered rates are params.queryRate / params.mutationRate; these are what the platform achieved.
    throughput: {
      queriesPerS: round(counts.queries / params.durationS),
      mutationsPerS: round(counts.mutations / params.durationS),
      eventsPerS: round(counts.events / params.durationS),
    },
    queryLatencyMs: { p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), max: round(percentile(sorted, 100)) },
    memory: {
      // After a forced GC: what is still referenced. Growth from the end of the warm-up to the end.
      heapUsedMB: { afterWarmUp: first.heapUsedMB, end: last.heapUsedMB, growthRatio: round(last.heapUsedMB / first.heapUsedMB), slopeMBPerMin: round(slope(steady, 'heapUsedMB')) },
      rssMB: { afterWarmUp: first.rssMB, end: last.rssMB, growthRatio: round(last.rssMB / first.rssMB), slopeMBPerMin: round(slope(steady, 'rssMB')) },
    },
    samples,
  };
  console.log(JSON.stringify({ counts, throughput: result.throughput, queryLatencyMs: result.queryLatencyMs, memory: result.memory }, null, 2));
  if (params.out) {
    mkdirSync(path.dirname(params.out), { recursive: true });
    writeFileSync(params.out, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`wrote ${params.out}`);
  }
  if (counts.errors > 0) process.exitCode = 1;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    return cause ? `${error.message} (${cause.code ?? cause.message})` : error.message;
  }
  const close = error as { code?: unknown; reason?: unknown; type?: unknown };
  if (close?.type === 'close' || typeof close?.code === 'number') return `socket closed ${String(close.code)} ${String(close.reason ?? '')}`;
  try {
    return JSON.stringify(error).slice(0, 300);
  } catch {
    return String(error);
  }
}

/** Least-squares slope of `key` over time, in MB per minute. */
function slope(samples: Sample[], key: 'heapUsedMB' | 'rssMB'): number {
  if (samples.length < 2) return NaN;
  const xs = samples.map((sample) => sample.atS / 60);
  const ys = samples.map((sample) => sample[key]);
  const meanX = xs.reduce((a, b) => a + b, 0) / xs.length;
  const meanY = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i += 1) {
    num += (xs[i]! - meanX) * (ys[i]! - meanY);
    den += (xs[i]! - meanX) ** 2;
  }
  return num / den;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

if (process.argv.includes('--role')) {
  runPlatform().catch((error) => {
    console.error(error);
    process.exit(1);
  });
} else {
  orchestrate(parseParams(process.argv.slice(2))).catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
