/**
 * Subscription fan-out benchmark: N concurrent `taskChanged` subscriptions through the gateway.
 *
 *   npx tsx packages/benchmarks/src/subscriptions.ts [--subscribers 10000] [--users 100] [--rate 4]
 *     [--duration-s 20] [--clients 1] [--gateways 1] [--gateway-workers 1] [--transport ws] [--profile] [--out <file>|--no-out]
 *
 * Four kinds of processes (so the gateway's CPU and memory are its own):
 * - orchestrator (this command): drives the phases, measures, verifies, reports;
 * - platform: every subgraph embedded (`startPlatform`: PGlite in memory, in-memory bus), signs up
 *   the users, creates the tasks, and publishes `task.updated` events on the bus the task subgraph
 *   listens to, at a controlled rate, recording each event's id (= the client's cursor) and publish time;
 * - gateway(s) (`--gateways`): `startGatewayService` alone (started with --expose-gc), routing to the
 *   platform's subgraphs over HTTP / graphql-ws; answers memory / CPU / stats requests over IPC.
 *   With `--gateway-workers W`, each is a node:cluster primary whose W workers run it on one port
 *   (what GATEWAY_WORKERS=W does) and whose answers are the sums over them and itself;
 * - client(s) (`--clients`): the harness's own WebSocket client (rawWebSocket.ts, to keep client CPU
 *   low) speaking graphql-transport-ws, one subscription per socket, recording receive time per
 *   (subscriber, cursor).
 * Every flag also reads an env variable: --subscribers <-> BENCH_SUBSCRIBERS, etc.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from './args';
import { machine, packageDir, percentile } from './report';
import { BENCHMARK_RATE_BUDGETS } from './budgets';
import { openRawWebSocket, type RawWebSocket } from './rawWebSocket';

// ---------------------------------------------------------------------------------------------
// Parameters

interface Params {
  subscribers: number;
  /** Distinct users (tokens, all MEMBERs) the subscribers are spread over. */
  users: number;
  /** Published events per second. */
  rate: number;
  durationS: number;
  /** Client processes the sockets are spread over. */
  clients: number;
  gateways: number;
  /** Worker processes of each gateway, sharing its port (node:cluster, as GATEWAY_WORKERS does). */
  gatewayWorkers: number;
  transport: 'ws';
  /** Tasks the events are about (round robin). */
  tasks: number;
  timeoutS: number;
  profile: boolean;
  heapSnapshots: boolean;
  out: string | null;
}

const HELP = `usage: npx tsx packages/benchmarks/src/subscriptions.ts [options]
  --subscribers N   concurrent subscriptions, one WebSocket each (BENCH_SUBSCRIBERS, default 10000)
  --users N         users (all MEMBERs) the subscribers are spread over (BENCH_USERS, default 100); the
                    gateway shares one upstream subscription per (operation, variables, roles and
                    scopes), as the subgraphs declare every type of the selection public (ADR 0023)
  --rate N          published events/s (BENCH_RATE, default 4): offered deliveries/s = subscribers x rate
  --duration-s N    seconds of publishing (BENCH_DURATION_S, default 20)
  --clients N       client processes (BENCH_CLIENTS, default 1)
  --gateways N      gateway processes (replicas on one host) the subscribers are spread over (BENCH_GATEWAYS, default 1)
  --gateway-workers N  worker processes per gateway on one port, as GATEWAY_WORKERS=N runs it (BENCH_GATEWAY_WORKERS, default 1)
  --transport T     ws (graphql-transport-ws over WebSocket) (BENCH_TRANSPORT, default ws)
  --tasks N         tasks the events are about (BENCH_TASKS, default 10)
  --timeout-s N     give up after N seconds (BENCH_TIMEOUT_S, default 170)
  --profile         --cpu-prof the gateway, platform and client processes into /tmp/subbench-helper/profiles/{gateway-N,platform,client-N}
  --heap-snapshots  heap snapshots of the (single) gateway process into /tmp/subbench-helper/heap/: baseline, sockets connected,
                    subscribed (compare them in Chrome DevTools' Memory tab to see what each connection and subscription holds)
  --out FILE        result JSON (default packages/benchmarks/results/subscriptions-<date>.json); --no-out: none`;

function parseParams(argv: readonly string[]): Params {
  const { raw, number, flag } = parseArgs(argv, {
    help: HELP,
    values: ['subscribers', 'users', 'rate', 'duration-s', 'clients', 'gateways', 'gateway-workers', 'transport', 'tasks', 'timeout-s', 'out'],
    flags: ['profile', 'heap-snapshots', 'no-out'],
  });
  const transport = raw('transport') ?? 'ws';
  if (transport !== 'ws') throw new Error(`--transport (BENCH_TRANSPORT) must be ws, got "${transport}"`);
  const params: Params = {
    subscribers: number('subscribers', 10_000),
    users: number('users', 100),
    rate: number('rate', 4, { min: 0.1, integer: false }),
    durationS: number('duration-s', 20),
    clients: number('clients', 1),
    gateways: number('gateways', 1),
    gatewayWorkers: number('gateway-workers', 1),
    transport,
    tasks: number('tasks', 10),
    timeoutS: number('timeout-s', 170),
    profile: raw('profile') === 'true' || raw('profile') === '1',
    heapSnapshots: flag('heap-snapshots'),
    out: flag('no-out') ? null : (raw('out') ?? defaultOutFile()),
  };
  if (params.users > params.subscribers) params.users = params.subscribers;
  if (params.heapSnapshots && (params.gateways > 1 || params.gatewayWorkers > 1)) throw new Error('--heap-snapshots takes one gateway process (no --gateways or --gateway-workers)');
  if (params.subscribers / params.clients > 18_000) throw new Error('at most 18000 sockets per client process (file descriptor limit); raise --clients');
  return params;
}

function defaultOutFile(): string {
  const stamp = new Date().toISOString().replace(/:/g, '-').replace(/\..*$/, '');
  return path.join(packageDir(), 'results', `subscriptions-${stamp}.json`);
}


/** Wall clock with sub-millisecond resolution, comparable between processes of one machine. */
function now(): number {
  return performance.timeOrigin + performance.now();
}

const SUBSCRIPTION = 'subscription Bench { taskChanged { cursor kind task { title assignee { displayName } } } }';
const OWNER_NAME = 'Bench Owner';

// ---------------------------------------------------------------------------------------------
// IPC: the orchestrator calls commands of its children; each answers once per call.

type Handler = (args: any) => Promise<unknown> | unknown;

function serveCommands(handlers: Record<string, Handler>) {
  process.on('message', (message: { id: number; command: string; args: unknown }) => {
    if (typeof message?.command !== 'string') return; // not for us (e.g. gateway workers' messages to each other)
    void (async () => {
      try {
        const handler = handlers[message.command];
        if (!handler) throw new Error(`unknown command ${message.command}`);
        const result = await handler(message.args);
        process.send!({ id: message.id, result });
      } catch (error) {
        process.send!({ id: message.id, error: (error as Error).stack ?? String(error) });
      }
    })();
  });
  process.send!({ id: 0, result: 'started' });
}

interface Child {
  name: string;
  process: ChildProcess;
  call<T = any>(command: string, args?: unknown, timeoutMs?: number): Promise<T>;
}

function spawnChild(name: string, role: string, config: unknown, execArgv: string[] = []): Promise<Child> {
  const child = fork(__filename, ['--role', role], {
    execArgv: [...process.execArgv, ...execArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  return connectChild(name, child, config);
}

/** The IPC end of a forked child or cluster worker: `send`, `message` and `exit` events. */
interface IpcPeer {
  send(message: unknown): unknown;
  on(event: 'message', listener: (message: any) => void): unknown;
  on(event: 'exit', listener: (code: number | null, signal: string | null) => void): unknown;
  once(event: 'exit', listener: (code: number | null) => void): unknown;
}

/** `config`: sent as the first message; undefined when the child has it already (cluster workers). */
function connectChild(name: string, child: IpcPeer & { process?: ChildProcess }, config: unknown): Promise<Child> {
  // The config goes over IPC, not argv: 1000 tokens exceed the 128 KB limit of one argument.
  if (config !== undefined) child.send({ config });
  let next = 1;
  const pending = new Map<number, { resolve: (value: any) => void; reject: (error: Error) => void }>();
  let started: (() => void) | undefined;
  child.on('message', (message: { id: number; result?: unknown; error?: string }) => {
    if (message.id === 0) return started?.();
    const call = pending.get(message.id);
    if (!call) return;
    pending.delete(message.id);
    if (message.error) call.reject(new Error(`${name}: ${message.error}`));
    else call.resolve(message.result);
  });
  child.on('exit', (code, signal) => {
    for (const call of pending.values()) call.reject(new Error(`${name} exited (${code ?? signal})`));
    pending.clear();
  });
  const handle: Child = {
    name,
    process: (child.process ?? child) as ChildProcess,
    call(command, args, timeoutMs = 60_000) {
      const id = next++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${name}: ${command} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
        child.send({ id, command, args });
      });
    },
  };
  return new Promise((resolve, reject) => {
    started = () => resolve(handle);
    child.once('exit', (code) => reject(new Error(`${name} exited during start-up (${code})`)));
  });
}

// ---------------------------------------------------------------------------------------------
// Platform process: subgraphs (embedded), users, tasks, and the publisher

interface PlatformConfig {
  params: Params;
}

async function graphql(url: string, query: string, variables: Record<string, unknown>, token?: string): Promise<any> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: unknown[] };
  if (body.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}

async function runPlatform(config: PlatformConfig) {
  const { params } = config;
  const { startPlatform } = await import('@meridian/launcher');
  const { createDomainEvent } = await import('@meridian/domain-events');
  const env: Record<string, string> = {
    AUTH_PORT: '0',
    USER_PORT: '0',
    TASK_PORT: '0',
    NOTIFICATION_PORT: '0',
    ANALYTICS_PORT: '0',
    GATEWAY_PORT: '0',
    DATA_DIR: ':memory:',
    LOG_LEVEL: 'warn',
    NODE_ENV: 'test',
    ACCESS_TOKEN_TTL_SECONDS: '3600',
    ...BENCHMARK_RATE_BUDGETS,
  };
  // Embedded, always: in-memory bus and PGlite, whatever the shell exports.
  for (const key of Object.keys(process.env)) if (key === 'REDIS_URL' || key.endsWith('_DATABASE_URL')) delete process.env[key];
  const platform = await startPlatform({ env });
  const signUp = async (name: string) => {
    const email = `${name.toLowerCase().replace(/\W+/g, '-')}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
    const data = await graphql(
      platform.gatewayUrl,
      'mutation($input: SignUpInput!) { signUp(input: $input) { accessToken user { id } } }',
      { input: { email, password: 'correct horse battery staple', displayName: name } },
    );
    return { token: data.signUp.accessToken as string, userId: data.signUp.user.id as string };
  };

  let tasks: { id: string; title: string; createdById: string; assigneeId: string }[] = [];
  let owner: { token: string; userId: string } | undefined;
  let published: { ids: string[]; times: number[] } = { ids: [], times: [] };
  let probes = 0;

  const publishUpdate = async (task: (typeof tasks)[number]) => {
    const event = createDomainEvent('task.updated', {
      payload: {
        taskId: task.id, projectId: null, title: task.title, priority: 'MEDIUM', dueAt: null,
        createdById: task.createdById, assigneeId: task.assigneeId, actorId: task.createdById,
        changedFields: ['title'], previousStatus: 'TODO', newStatus: 'TODO',
      },
    });
    const at = now();
    await platform.bus.publish(event);
    return { id: event.id, at };
  };

  serveCommands({
    async setup() {
      const setupStarted = now();
      owner = await signUp(OWNER_NAME);
      // Signing up runs argon2 (19 MiB, 2 passes): a few at a time.
      const tokens: string[] = new Array(params.users);
      let nextUser = 0;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          for (;;) {
            const index = nextUser++;
            if (index >= params.users) return;
            tokens[index] = (await signUp(`Bench User ${index}`)).token;
          }
        }),
      );
      for (let index = 0; index < params.tasks + 1; index++) {
        const title = index === params.tasks ? 'probe task' : `bench task ${index}`;
        const data = await graphql(
          platform.gatewayUrl,
          'mutation($input: CreateTaskInput!) { createTask(input: $input) { id title } }',
          { input: { title, assigneeId: owner.userId } },
          owner.token,
        );
        tasks.push({ id: data.createTask.id, title: data.createTask.title, createdById: owner.userId, assigneeId: owner.userId });
      }
      const services = platform.services;
      return {
        tokens,
        setupSeconds: (now() - setupStarted) / 1000,
        routing: {
          JWKS_URL: `${services.auth.url}/.well-known/jwks.json`,
          AUTH_SUBGRAPH_URL: `${services.auth.url}/graphql`,
          USER_SUBGRAPH_URL: `${services.user.url}/graphql`,
          TASK_SUBGRAPH_URL: `${services.task.url}/graphql`,
          NOTIFICATION_SUBGRAPH_URL: `${services.notification.url}/graphql`,
          ANALYTICS_SUBGRAPH_URL: `${services.analytics.url}/graphql`,
        },
      };
    },
    /** One event about the probe task (priming: graphql-ws has no "subscription started"). */
    async probe() {
      probes++;
      return (await publishUpdate(tasks[params.tasks]!)).id;
    },
    /** Publishes rate x duration events on a fixed schedule (not closed-loop). */
    async publish() {
      const count = Math.max(1, Math.round(params.rate * params.durationS));
      const ids: string[] = [];
      const times: number[] = [];
      const cpuBefore = process.cpuUsage();
      const startedAt = now();
      for (let index = 0; index < count; index++) {
        const due = startedAt + (index / params.rate) * 1000;
        const wait = due - now();
        if (wait > 0) await sleep(wait);
        const { id, at } = await publishUpdate(tasks[index % params.tasks]!);
        ids.push(id);
        times.push(at);
      }
      published = { ids, times };
      const cpu = process.cpuUsage(cpuBefore);
      return { count, startedAt, finishedAt: now(), cpuSecondsWhilePublishing: (cpu.user + cpu.system) / 1e6 };
    },
    published: () => published,
    cpu: () => {
      const cpu = process.cpuUsage();
      return (cpu.user + cpu.system) / 1e6;
    },
    stats: () => ({ probes }),
    async stop() {
      await platform.stop();
      setImmediate(() => process.exit(0));
      return true;
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Gateway process: the real gateway, alone, with --expose-gc

interface GatewayConfigMessage {
  params: Params;
  routing: Record<string, string>;
}

/** V8's collections in this process of at least 10 ms (kind, length, when), to explain outliers in latency. */
function recordGcPauses(label: string) {
  const kinds: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weak callbacks' };
  const pauses: { process: string; kind: string; ms: number; at: number }[] = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.duration < 10) continue;
      const kind = ((entry as PerformanceEntry & { detail?: { kind?: number } }).detail)?.kind ?? 0;
      pauses.push({ process: label, kind: kinds[kind] ?? String(kind), ms: Math.round(entry.duration), at: Math.round(performance.timeOrigin + entry.startTime) });
    }
  }).observe({ entryTypes: ['gc'] });
  /** The pauses since the last call. */
  return () => pauses.splice(0);
}

/**
 * `--gateway-workers W`: this process is a node:cluster primary (as `runWorkers` makes the gateway's
 * main), its W workers run `runGateway` on one shared port, and every command is answered with the
 * sum over the workers (plus this process's own CPU and memory); the URL is the one they share.
 */
const WORKER_CONFIG_ENV = 'BENCH_GATEWAY_WORKER_CONFIG';

async function runGatewayPrimary(config: GatewayConfigMessage) {
  const cluster = (await import('node:cluster')).default;
  cluster.setupPrimary({ serialization: 'advanced' });
  // A cluster worker reads IPC before its module has loaded (a message sent then is lost): its
  // config, which is small (no tokens), goes in its environment.
  const workerConfig: GatewayConfigMessage = { ...config, params: { ...config.params, gatewayWorkers: 1 } };
  // The workers share upstream subscriptions (and rate budgets) through this primary, as under runWorkers.
  const { createPeerRelay } = await import('@meridian/service-kit');
  const relay = createPeerRelay(config.params.gatewayWorkers);
  const entry = process.env.BENCH_GATEWAY_ENTRY;
  const gateway = (entry ? await import(entry) : await import('@meridian/gateway')) as Partial<typeof import('@meridian/gateway')>;
  gateway.keepWorkersRateBudgets?.(); // absent from a gateway older than the shared budgets
  const workers = await Promise.all(
    Array.from({ length: config.params.gatewayWorkers }, (_, index) => {
      const worker = cluster.fork({ [WORKER_CONFIG_ENV]: JSON.stringify(workerConfig), ...relay.env(index) });
      relay.adopt(worker, index);
      return connectChild(`gateway worker ${index + 1}`, worker, undefined);
    }),
  );
  const all = <T>(command: string, args?: unknown) => Promise.all(workers.map((worker) => worker.call<T>(command, args, 120_000)));
  const own = { cpu: () => process.cpuUsage(), memory: () => process.memoryUsage() };
  const ownGcPauses = recordGcPauses('primary');
  serveCommands({
    gcPauses: async () => [...(await all<unknown[]>('gcPauses')).flat(), ...ownGcPauses()],
    async url() {
      const urls = new Set(await all<string>('url'));
      if (urls.size !== 1) throw new Error(`the workers listen on different URLs: ${[...urls].join(', ')}`);
      return [...urls][0];
    },
    stats: async () => sumAnswers(await all('stats')),
    cpu: async () => sumAnswers(await all<number>('cpu')) + (own.cpu().user + own.cpu().system) / 1e6,
    async cpuSplit() {
      const cpu = own.cpu();
      return sumAnswers([...(await all('cpuSplit')), { user: cpu.user / 1e6, system: cpu.system / 1e6 }]);
    },
    async memory() {
      // After full collections, as in the workers: the primary relays their messages (and keeps
      // their shared counters), whose garbage is not the connections' memory.
      const answers = await all('memory');
      for (let round = 0; round < 4; round++) {
        globalThis.gc?.();
        await sleep(50);
      }
      const memory = own.memory();
      const primary = { rss: memory.rss, heapUsed: memory.heapUsed, heapTotal: memory.heapTotal, external: memory.external, arrayBuffers: memory.arrayBuffers };
      // Each process's own figures too (the workers', then the primary's), to see where memory goes.
      return { ...sumAnswers([...answers, primary]), processes: [...answers, primary] };
    },
    async stop() {
      await all('stop').catch(() => undefined);
      setImmediate(() => process.exit(0));
      return true;
    },
  });
}

/** Numbers summed; objects summed field by field (their numeric fields). */
function sumAnswers(answers: any[]): any {
  if (typeof answers[0] === 'number') return answers.reduce((a: number, b: number) => a + b, 0);
  const summed: Record<string, number> = {};
  for (const one of answers) for (const [key, value] of Object.entries(one as object)) if (typeof value === 'number') summed[key] = (summed[key] ?? 0) + value;
  return summed;
}

async function runGateway(config: GatewayConfigMessage) {
  if (config.params.gatewayWorkers > 1) return runGatewayPrimary(config);
  // BENCH_GATEWAY_ENTRY: another copy of apps/gateway/src/index.ts (e.g. `git archive` of an older
  // commit, run with NODE_PATH=<repo>/node_modules), for before/after comparisons on the same harness.
  const entry = process.env.BENCH_GATEWAY_ENTRY;
  const { startGatewayService, loadGatewayConfig } = (entry ? await import(entry) : await import('@meridian/gateway')) as typeof import('@meridian/gateway');
  const { createLogger } = await import('@meridian/service-kit');
  const perUser = Math.ceil(config.params.subscribers / config.params.users);
  const gateway = await startGatewayService({
    config: loadGatewayConfig({
      ...config.routing,
      GATEWAY_PORT: '0',
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      // The default (200 per user) is a production guard; this benchmark puts N/U sockets on one user.
      MAX_SUBSCRIPTIONS_PER_USER: String(Math.max(200, perUser)),
    }),
    logger: createLogger('gateway', 'warn'),
  });
  const gc = (globalThis as { gc?: () => void }).gc;
  const gcPauses = recordGcPauses(process.env[WORKER_CONFIG_ENV] ? `worker ${process.pid}` : 'gateway');
  serveCommands({
    gcPauses,
    url: () => `${gateway.url}/graphql`,
    stats: () => gateway.stats(),
    cpu: () => {
      const cpu = process.cpuUsage();
      return (cpu.user + cpu.system) / 1e6;
    },
    cpuSplit: () => {
      const cpu = process.cpuUsage();
      return { user: cpu.user / 1e6, system: cpu.system / 1e6 };
    },
    /** Memory after full collections (needs --expose-gc). */
    async memory() {
      if (!gc) throw new Error('the gateway needs --expose-gc');
      for (let round = 0; round < 4; round++) {
        gc();
        await sleep(50);
      }
      const memory = process.memoryUsage();
      return { rss: memory.rss, heapUsed: memory.heapUsed, heapTotal: memory.heapTotal, external: memory.external, arrayBuffers: memory.arrayBuffers };
    },
    heapSnapshot: async (file: unknown) => (await import('node:v8')).writeHeapSnapshot(String(file)),
    async stop() {
      await gateway.stop();
      setImmediate(() => process.exit(0));
      return true;
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Client process: raw sockets speaking graphql-transport-ws

interface ClientConfig {
  params: Params;
  /** One per gateway process: subscriber i uses urls[floor(i / users) mod urls.length], so every gateway serves every user. */
  urls: string[];
  tokens: string[];
  /** Global indices of this process's subscribers: first, first + step, ... */
  first: number;
  step: number;
}

async function runClient(config: ClientConfig) {
  const indices: number[] = [];
  for (let index = config.first; index < config.params.subscribers; index += config.step) indices.push(index);
  const count = indices.length;
  const sockets: (RawWebSocket | undefined)[] = new Array(count);
  const received = new Uint32Array(count); // measured deliveries per subscriber
  const anyMessage = new Uint8Array(count); // got at least one result (priming)
  const lastCursor: string[] = new Array(count).fill('');
  const outOfOrder = new Uint32Array(count); // cursor not greater than the previous one: duplicate or reordered
  let messages = 0; // every `next`, probes included (to know when the priming probes stopped arriving)
  let errorResults = 0;
  let badPayloads = 0;
  let closedEarly = 0;
  let measuring = false;
  /** Receive time per (cursor, subscriber). */
  const receiveTimes = new Map<string, Float64Array>();
  const firstError: string[] = [];

  // Every subscriber of one event gets the same bytes (same operation id, same result): the first
  // copy of each cursor is parsed and checked in full, later ones are compared byte for byte
  // (a mismatch is parsed and checked too). Keeps client CPU, which shares the machine, low.
  const checked = new Map<string, Buffer>();
  const CURSOR = Buffer.from('"cursor":"');
  const NEXT = Buffer.from('{"id":"1","type":"next","payload":');
  const check = (text: string): string | undefined => {
    const message = JSON.parse(text) as { type: string; payload?: any };
    const change = message.payload?.data?.taskChanged;
    if (message.payload?.errors || typeof change?.cursor !== 'string' || typeof change.task?.title !== 'string' || change.task.assignee?.displayName !== OWNER_NAME) {
      if (message.payload?.errors) errorResults++;
      else badPayloads++;
      if (firstError.length < 3) firstError.push(text.slice(0, 500));
      return undefined;
    }
    return change.cursor as string;
  };

  const onMessage = (slot: number, data: Buffer) => {
    const at = now();
    const start = data.indexOf(CURSOR);
    if (start < 0 || !data.subarray(0, NEXT.length).equals(NEXT)) {
      // Not a plain `next` for operation "1": error, complete, or an unexpected shape.
      const text = data.toString();
      const message = JSON.parse(text) as { type: string };
      if (message.type === 'next') {
        messages++;
        anyMessage[slot] = 1;
        check(text);
      } else {
        errorResults++;
        if (firstError.length < 3) firstError.push(text.slice(0, 500));
      }
      return;
    }
    messages++;
    anyMessage[slot] = 1;
    const cursor = data.toString('latin1', start + CURSOR.length, start + CURSOR.length + 26);
    const reference = checked.get(cursor);
    if (reference === undefined || !reference.equals(data)) {
      if (check(data.toString()) !== cursor) return;
      if (reference === undefined) checked.set(cursor, Buffer.from(data));
    }
    // Event ids are monotonic ULIDs from one publisher: every stream must see them strictly increasing.
    if (cursor <= lastCursor[slot]!) outOfOrder[slot]!++;
    lastCursor[slot] = cursor;
    if (!measuring) return;
    received[slot]!++;
    let times = receiveTimes.get(cursor);
    if (!times) {
      times = new Float64Array(count);
      receiveTimes.set(cursor, times);
    }
    times[slot] = at;
  };

  async function open(slot: number): Promise<void> {
    const token = config.tokens[indices[slot]! % config.tokens.length]!;
    let acked = false;
    let ack!: { resolve: () => void; reject: (error: Error) => void };
    const acknowledged = new Promise<void>((resolve, reject) => (ack = { resolve, reject }));
    const url = config.urls[Math.floor(indices[slot]! / config.params.users) % config.urls.length]!;
    const socket = await openRawWebSocket(url, 'graphql-transport-ws', {
      onMessage: (data) => {
        if (!acked) {
          const message = JSON.parse(data.toString()) as { type: string };
          if (message.type === 'connection_ack') {
            acked = true;
            ack.resolve();
            return;
          }
        }
        onMessage(slot, data);
      },
      onClose: (code, reason) => {
        if (!acked) ack.reject(new Error(`closed before ack: ${code} ${reason}`));
        else if (!closing) closedEarly++;
      },
    });
    sockets[slot] = socket;
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
    return acknowledged;
  }
  let closing = false;

  serveCommands({
    /** Opens every socket (connection_init, waits for connection_ack), `concurrency` handshakes at a time. */
    async connect({ concurrency }: { concurrency: number }) {
      const startedAt = now();
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          for (;;) {
            const slot = next++;
            if (slot >= count) return;
            await open(slot);
          }
        }),
      );
      return { sockets: count, seconds: (now() - startedAt) / 1000 };
    },
    subscribe() {
      for (let slot = 0; slot < count; slot++) {
        sockets[slot]!.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SUBSCRIPTION, variables: {} } }));
      }
      return count;
    },
    progress() {
      let primed = 0;
      let total = 0;
      for (let slot = 0; slot < count; slot++) {
        primed += anyMessage[slot]!;
        total += received[slot]!;
      }
      return { primed, received: total, messages, errorResults, badPayloads, closedEarly, firstError };
    },
    startMeasuring() {
      measuring = true;
      return true;
    },
    cpu: () => {
      const cpu = process.cpuUsage();
      return (cpu.user + cpu.system) / 1e6;
    },
    /** Latencies (receive - publish) of every measured delivery, and the exactly-once check. */
    results({ ids, times }: { ids: string[]; times: number[] }) {
      const publishedAt = new Map<string, number>();
      ids.forEach((id, index) => publishedAt.set(id, times[index]!));
      let deliveries = 0;
      for (const times of receiveTimes.values()) for (let slot = 0; slot < count; slot++) if (times[slot]! > 0) deliveries++;
      const latencies = new Float64Array(deliveries);
      let filled = 0;
      let unknownCursors = 0;
      let firstReceive = Infinity;
      let lastReceive = 0;
      /** Per event: when its first and its last copy reached this client's sockets. */
      const firstByCursor: Record<string, number> = {};
      const lastByCursor: Record<string, number> = {};
      for (const [cursor, received] of receiveTimes) {
        const published = publishedAt.get(cursor);
        if (published === undefined) unknownCursors++;
        let first = Infinity;
        let last = 0;
        for (let slot = 0; slot < count; slot++) {
          const at = received[slot]!;
          if (at <= 0) continue;
          if (at < first) first = at;
          if (at > last) last = at;
          if (at < firstReceive) firstReceive = at;
          if (at > lastReceive) lastReceive = at;
          if (published !== undefined) latencies[filled++] = at - published;
        }
        if (first < Infinity) firstByCursor[cursor] = first;
        if (last > 0) lastByCursor[cursor] = last;
      }
      let complete = 0;
      let missing = 0;
      let extra = 0;
      let outOfOrderTotal = 0;
      for (let slot = 0; slot < count; slot++) {
        const got = received[slot]!;
        if (got === ids.length) complete++;
        else if (got < ids.length) missing += ids.length - got;
        else extra += got - ids.length;
        outOfOrderTotal += outOfOrder[slot]!;
      }
      return {
        subscribers: count,
        deliveries,
        latencies: latencies.subarray(0, filled),
        firstByCursor,
        lastByCursor,
        firstReceive,
        lastReceive,
        complete,
        missing,
        extra,
        outOfOrder: outOfOrderTotal,
        unknownCursors,
        errorResults,
        badPayloads,
        closedEarly,
      };
    },
    async close() {
      closing = true;
      for (const socket of sockets) socket?.close(1000);
      await sleep(200);
      for (const socket of sockets) socket?.destroy();
      setImmediate(() => process.exit(0));
      return true;
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Orchestrator



const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

async function waitFor<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, deadline: number, intervalMs = 100): Promise<T> {
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await sleep(intervalMs);
  }
}

async function orchestrate(params: Params) {
  const started = Date.now();
  const hardDeadline = started + params.timeoutS * 1000;
  const children: Child[] = [];
  // A run that hangs is stopped: every child is killed at the deadline.
  const killer = setTimeout(() => {
    console.error(`\ngave up after ${params.timeoutS} s`);
    for (const child of children) child.process.kill('SIGKILL');
    process.exit(2);
  }, params.timeoutS * 1000 + 5_000);
  killer.unref();
  const log = (message: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}`);
  const profileDir = '/tmp/subbench-helper/profiles';
  if (params.profile) mkdirSync(profileDir, { recursive: true });

  try {
    log(`platform: starting subgraphs (embedded), signing up ${params.users} users, creating ${params.tasks} tasks`);
    const platform = await spawnChild('platform', 'platform', { params } satisfies PlatformConfig,
      params.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}/platform`] : []);
    children.push(platform);
    const setup = await platform.call<{ tokens: string[]; routing: Record<string, string>; setupSeconds: number }>('setup', undefined, 120_000);
    log(`platform ready (${setup.setupSeconds.toFixed(1)} s); gateway: starting`);
    const gateways: Child[] = [];
    for (let index = 0; index < params.gateways; index++) {
      const args = ['--expose-gc', ...(params.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}/gateway-${index + 1}`] : [])];
      gateways.push(await spawnChild(`gateway-${index + 1}`, 'gateway', { params, routing: setup.routing } satisfies GatewayConfigMessage, args));
    }
    children.push(...gateways);
    const urls = await Promise.all(gateways.map((child) => child.call<string>('url')));
    /** The gateway processes as one: figures (stats, memory, CPU) summed over them. */
    const gateway = {
      async call<T = any>(command: string): Promise<T> {
        const answers = await Promise.all(gateways.map((child) => child.call(command)));
        // One gateway's answer as it is (with a primary's per-process memory figures).
        return (answers.length === 1 ? answers[0] : sumAnswers(answers)) as T;
      },
    };
    const clients: Child[] = [];
    for (let index = 0; index < params.clients; index++) {
      const client = await spawnChild(`client-${index + 1}`, 'client', {
        params, urls, tokens: setup.tokens, first: index, step: params.clients,
      } satisfies ClientConfig, params.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}/client-${index + 1}`] : []);
      children.push(client);
      clients.push(client);
    }
    const sum = async (command: string) => (await Promise.all(clients.map((client) => client.call<number>(command)))).reduce((a, b) => a + b, 0);
    const progress = async () => {
      const all = await Promise.all(clients.map((client) => client.call('progress')));
      return {
        primed: all.reduce((s, p) => s + p.primed, 0),
        received: all.reduce((s, p) => s + p.received, 0),
        messages: all.reduce((s, p) => s + p.messages, 0),
        errorResults: all.reduce((s, p) => s + p.errorResults, 0),
        badPayloads: all.reduce((s, p) => s + p.badPayloads, 0),
        closedEarly: all.reduce((s, p) => s + p.closedEarly, 0),
        firstError: all.flatMap((p) => p.firstError),
      };
    };

    // Warm the gateway's lazy parts (plan cache, upstream pool, data sources) before the baseline:
    // they are per gateway, not per connection. One throw-away client, one subscription, one event.
    {
      const warm = await spawnChild('warm-up client', 'client', {
        // One subscription per gateway process: consecutive connections to one port go to its workers in turn.
        params: { ...params, subscribers: params.gateways * params.gatewayWorkers * params.users, users: params.users }, urls, tokens: setup.tokens, first: 0, step: params.users,
      } satisfies ClientConfig);
      children.push(warm);
      await warm.call('connect', { concurrency: 1 });
      await warm.call('subscribe');
      await waitFor('the warm-up subscription', async () => { await platform.call('probe'); await sleep(200); return warm.call('progress'); },
        (p) => p.primed === params.gateways * params.gatewayWorkers, Math.min(hardDeadline, Date.now() + 20_000), 0);
      await warm.call('close');
      await waitFor('the warm-up subscription to end', () => gateway.call('stats'), (s) => s.subscribers === 0 && s.openWebSockets === 0, Date.now() + 10_000);
    }

    const baseline = await gateway.call('memory');
    log(`gateway baseline: rss ${mb(baseline.rss)}, heap ${mb(baseline.heapUsed)}`);
    const heapDir = '/tmp/subbench-helper/heap';
    const snapshot = async (name: string) => {
      if (!params.heapSnapshots) return;
      mkdirSync(heapDir, { recursive: true });
      log(`heap snapshot: ${await gateways[0]!.call<string>('heapSnapshot', `${heapDir}/${name}.heapsnapshot`, 120_000)}`);
    };
    await snapshot('baseline');

    // --- idle: N sockets, then N subscriptions, no events
    const cpuConnect0 = await gateway.call<number>('cpu');
    const connectStarted = now();
    await Promise.all(clients.map((client) => client.call('connect', { concurrency: Math.max(1, Math.floor(256 / params.clients)) }, 120_000)));
    const connectSeconds = (now() - connectStarted) / 1000;
    const cpuConnect1 = await gateway.call<number>('cpu');
    log(`${params.subscribers} sockets connected (acked) in ${connectSeconds.toFixed(1)} s`);
    await waitFor('open sockets', () => gateway.call('stats'), (s) => s.openWebSockets === params.subscribers, hardDeadline);
    const connectedMemory = await gateway.call('memory');
    await snapshot('connected');

    await Promise.all(clients.map((client) => client.call('subscribe')));
    const stats = await waitFor('subscriptions at the gateway', () => gateway.call('stats'),
      // How many upstream subscriptions that takes depends on the gateway: one per authorization
      // (ADR 0023: every type of SUBSCRIPTION is declared public, and the users all are MEMBERs), one
      // per user before that, one per user and worker before ADR 0022 (BENCH_GATEWAY_ENTRY).
      (s) => s.subscribers === params.subscribers && s.upstreamSubscriptions >= 1, hardDeadline);
    await sleep(1_000); // upstream graphql-ws handshakes settle
    const idleMemory = await gateway.call('memory');
    const idleStats = await gateway.call('stats');
    await snapshot('subscribed');
    const perConnection = (after: any) => ({
      rssBytes: Math.round((after.rss - baseline.rss) / params.subscribers),
      heapUsedBytes: Math.round((after.heapUsed - baseline.heapUsed) / params.subscribers),
      heapPlusExternalBytes: Math.round((after.heapUsed + after.external - baseline.heapUsed - baseline.external) / params.subscribers),
    });
    const idle = { connected: perConnection(connectedMemory), subscribed: perConnection(idleMemory) };
    log(`idle: ${stats.subscribers} subscribers on ${stats.upstreamSubscriptions} upstream subscriptions; per connection ` +
      `rss ${kb(idle.subscribed.rssBytes)}, heap ${kb(idle.subscribed.heapUsedBytes)} (sockets only: rss ${kb(idle.connected.rssBytes)}, heap ${kb(idle.connected.heapUsedBytes)})`);

    // --- priming: probe events until every subscriber got one (graphql-ws has no "subscription started")
    const primed = await waitFor('every subscriber to receive a probe', async () => {
      await platform.call('probe');
      await sleep(300);
      return progress();
    }, (p) => p.primed === params.subscribers, Math.min(hardDeadline, Date.now() + 60_000), 0);
    // Let the last probes drain (no message for 1 s), then measure.
    {
      let last = -1;
      const quietDeadline = Math.min(hardDeadline, Date.now() + 60_000);
      for (;;) {
        const { messages } = await progress();
        if (messages === last) break;
        if (Date.now() > quietDeadline) throw new Error('the priming probes never stopped arriving');
        last = messages;
        await sleep(1_000);
      }
    }
    log(`primed (${primed.primed} subscribers); publishing ${params.rate} events/s for ${params.durationS} s ` +
      `(offered ${Math.round(params.rate * params.subscribers)} deliveries/s)`);
    await Promise.all(clients.map((client) => client.call('startMeasuring')));

    await gateway.call('gcPauses'); // from here on: the collections during the load
    const gatewaySplit0 = await gateway.call<{ user: number; system: number }>('cpuSplit');
    const gatewayCpu0 = gatewaySplit0.user + gatewaySplit0.system;
    const platformCpu0 = await platform.call<number>('cpu');
    const clientCpu0 = await sum('cpu');
    const publishing = await platform.call<{ count: number; startedAt: number; finishedAt: number }>('publish', undefined, params.durationS * 1000 + 60_000);
    const expected = publishing.count * params.subscribers;
    const drained = await waitFor('every delivery', progress, (p) => p.received >= expected, Math.min(hardDeadline - 20_000, Date.now() + 30_000), 100)
      .catch(async (error: Error) => {
        log(`warning: ${error.message.slice(0, 300)}`);
        return progress();
      });
    const gatewaySplit1 = await gateway.call<{ user: number; system: number }>('cpuSplit');
    const gcPausesDuringLoad = await gateway.call<{ process: string; kind: string; ms: number; at: number }[]>('gcPauses');
    const gatewayCpu1 = gatewaySplit1.user + gatewaySplit1.system;
    const platformCpu1 = await platform.call<number>('cpu');
    const clientCpu1 = await sum('cpu');
    const loadedMemory = await gateway.call('memory');
    log(`${drained.received} of ${expected} deliveries received`);

    const published = await platform.call<{ ids: string[]; times: number[] }>('published');
    const results = await Promise.all(clients.map((client) => client.call('results', published, 60_000)));
    const latencyParts = results.map((result) => result.latencies as Float64Array);
    const latencies = new Float64Array(latencyParts.reduce((s, part) => s + part.length, 0));
    let offset = 0;
    for (const part of latencyParts) {
      latencies.set(part, offset);
      offset += part.length;
    }
    latencies.sort();
    const deliveries = results.reduce((s, r) => s + r.deliveries, 0);
    // Publish -> first delivery of each event: the part of the latency before the gateway's fan-out
    // starts (upstream subscription, entity fetches), the rest being the fan-out itself.
    const firstDeliveries = Float64Array.from(
      published.ids.map((id, index) => Math.min(...results.map((r) => (r.firstByCursor as Record<string, number>)[id] ?? Infinity)) - published.times[index]!),
    ).filter(Number.isFinite).sort();
    // Publish -> last delivery of each event: when its whole fan-out had arrived. p99 over the
    // deliveries follows the slowest few events, so their spread says whether it is one outlier.
    const lastDeliveries = Float64Array.from(
      published.ids.map((id, index) => Math.max(...results.map((r) => (r.lastByCursor as Record<string, number>)[id] ?? -Infinity)) - published.times[index]!),
    ).filter(Number.isFinite).sort();
    const lastReceive = Math.max(...results.map((r) => r.lastReceive));
    const verification = {
      events: publishing.count,
      expectedDeliveries: expected,
      deliveries,
      subscribersWithEveryEvent: results.reduce((s, r) => s + r.complete, 0),
      missing: results.reduce((s, r) => s + r.missing, 0),
      extra: results.reduce((s, r) => s + r.extra, 0),
      outOfOrderOrDuplicate: results.reduce((s, r) => s + r.outOfOrder, 0),
      unknownCursors: results.reduce((s, r) => s + r.unknownCursors, 0),
      errorResults: results.reduce((s, r) => s + r.errorResults, 0),
      badPayloads: results.reduce((s, r) => s + r.badPayloads, 0),
      socketsClosedEarly: results.reduce((s, r) => s + r.closedEarly, 0),
      firstErrors: drained.firstError,
      ok: false,
    };
    verification.ok =
      deliveries === expected && verification.subscribersWithEveryEvent === params.subscribers && verification.missing === 0 &&
      verification.extra === 0 && verification.outOfOrderOrDuplicate === 0 && verification.unknownCursors === 0 &&
      verification.errorResults === 0 && verification.badPayloads === 0 && verification.socketsClosedEarly === 0;

    const publishSeconds = (publishing.finishedAt - publishing.startedAt) / 1000;
    const figures = {
      offeredDeliveriesPerSecond: Math.round(params.rate * params.subscribers),
      // First publish to last delivery: includes the drain of whatever the gateway queued.
      deliveriesPerSecond: Math.round(deliveries / ((lastReceive - publishing.startedAt) / 1000)),
      latencyMs: {
        p50: round(percentile(latencies, 50)),
        p95: round(percentile(latencies, 95)),
        p99: round(percentile(latencies, 99)),
        max: round(latencies[latencies.length - 1] ?? NaN),
        firstDeliveryOfEventP50: round(percentile(firstDeliveries, 50)),
        lastDeliveryOfEvent: { p50: round(percentile(lastDeliveries, 50)), p90: round(percentile(lastDeliveries, 90)), max: round(lastDeliveries[lastDeliveries.length - 1] ?? NaN) },
      },
      publishSeconds: round(publishSeconds, 2),
      drainSeconds: round((lastReceive - publishing.startedAt) / 1000, 2),
      idleBytesPerConnection: idle,
      gatewayMemory: { baseline, connected: connectedMemory, idle: idleMemory, afterLoad: loadedMemory },
      gatewayCpuSeconds: {
        connect: round(cpuConnect1 - cpuConnect0, 2),
        load: round(gatewayCpu1 - gatewayCpu0, 2),
        loadUser: round(gatewaySplit1.user - gatewaySplit0.user, 2),
        loadSystem: round(gatewaySplit1.system - gatewaySplit0.system, 2),
        loadPerSecondOfPublishing: round((gatewayCpu1 - gatewayCpu0) / publishSeconds, 2),
        microsecondsPerDelivery: round(((gatewayCpu1 - gatewayCpu0) * 1e6) / Math.max(1, deliveries), 2),
      },
      platformCpuSecondsDuringLoad: round(platformCpu1 - platformCpu0, 2),
      clientCpuSecondsDuringLoad: round(clientCpu1 - clientCpu0, 2),
      connectSeconds: round(connectSeconds, 2),
      gatewayStatsIdle: idleStats,
      // Per event, in publish order: publish -> first and last delivery (ms), to find the slow ones.
      events: published.ids.map((id, index) => ({
        publishedAt: published.times[index],
        firstMs: round(Math.min(...results.map((r) => (r.firstByCursor as Record<string, number>)[id] ?? Infinity)) - published.times[index]!),
        lastMs: round(Math.max(...results.map((r) => (r.lastByCursor as Record<string, number>)[id] ?? -Infinity)) - published.times[index]!),
      })),
      // The gateway's collections of 10 ms or more during the load (`at`: epoch ms, as `publishedAt`).
      gcPausesDuringLoad,
    };
    const target = { subscribers: 10_000, deliveriesPerSecond: 20_000, p99Ms: 250, idleBytesPerConnection: 20 * 1024 };
    const targets = {
      subscribers: params.subscribers >= target.subscribers && verification.ok,
      deliveriesPerSecond: figures.deliveriesPerSecond >= target.deliveriesPerSecond,
      p99: figures.latencyMs.p99 < target.p99Ms,
      idleMemoryRss: idle.subscribed.rssBytes < target.idleBytesPerConnection,
      idleMemoryHeap: idle.subscribed.heapPlusExternalBytes < target.idleBytesPerConnection,
    };

    const rows: [string, string][] = [
      ['subscribers / users (upstream subscriptions)', `${params.subscribers} / ${params.users} (${idleStats.upstreamSubscriptions})`],
      ['events published (rate x duration)', `${publishing.count} (${params.rate}/s x ${params.durationS} s)`],
      ['deliveries offered/s', String(figures.offeredDeliveriesPerSecond)],
      ['deliveries/s (first publish -> last delivery)', String(figures.deliveriesPerSecond)],
      ['publish -> client p50 / p95 / p99 / max (ms)', `${figures.latencyMs.p50} / ${figures.latencyMs.p95} / ${figures.latencyMs.p99} / ${figures.latencyMs.max}`],
      ['publish -> first delivery of each event, median (ms)', `${figures.latencyMs.firstDeliveryOfEventP50}`],
      ['publish -> last delivery of each event, p50 / p90 / max (ms)', `${figures.latencyMs.lastDeliveryOfEvent.p50} / ${figures.latencyMs.lastDeliveryOfEvent.p90} / ${figures.latencyMs.lastDeliveryOfEvent.max}`],
      ['idle memory per connection, subscribed: rss / heap / heap+external', `${kb(idle.subscribed.rssBytes)} / ${kb(idle.subscribed.heapUsedBytes)} / ${kb(idle.subscribed.heapPlusExternalBytes)}`],
      ['idle memory per connection, socket only: rss / heap', `${kb(idle.connected.rssBytes)} / ${kb(idle.connected.heapUsedBytes)}`],
      ['gateway CPU s during load: total = user + system (us per delivery)', `${figures.gatewayCpuSeconds.load} = ${figures.gatewayCpuSeconds.loadUser} + ${figures.gatewayCpuSeconds.loadSystem} (${figures.gatewayCpuSeconds.microsecondsPerDelivery})`],
      ['platform / client CPU s during load', `${figures.platformCpuSecondsDuringLoad} / ${figures.clientCpuSecondsDuringLoad}`],
      ['gateway CPU s to accept the sockets', `${figures.gatewayCpuSeconds.connect} (${figures.connectSeconds} s wall)`],
      ['deliveries / expected', `${deliveries} / ${expected}`],
      ['missing / extra / out of order / errors', `${verification.missing} / ${verification.extra} / ${verification.outOfOrderOrDuplicate} / ${verification.errorResults + verification.badPayloads}`],
      ['every subscriber got every event exactly once', verification.ok ? 'yes' : 'NO'],
      [`target ${target.subscribers} subscribers`, targets.subscribers ? 'met' : 'not met'],
      [`target >= ${target.deliveriesPerSecond} deliveries/s`, targets.deliveriesPerSecond ? 'met' : 'not met'],
      [`target p99 < ${target.p99Ms} ms`, targets.p99 ? 'met' : 'not met'],
      ['target < 20 KB per idle connection (rss / heap+external)', `${targets.idleMemoryRss ? 'met' : 'not met'} / ${targets.idleMemoryHeap ? 'met' : 'not met'}`],
    ];
    const width = Math.max(...rows.map(([label]) => label.length));
    console.log('');
    for (const [label, value] of rows) console.log(`${label.padEnd(width)}  ${value}`);
    if (verification.firstErrors.length) console.log('first errors:', verification.firstErrors);

    const result = {
      benchmark: 'subscriptions: N graphql-transport-ws clients -> gateway (hub, shared upstream per user) -> task subgraph (graphql-ws) + user subgraph (entities)',
      date: new Date().toISOString(),
      machine: machine(),
      setup: {
        processes: ['orchestrator', 'platform (embedded subgraphs: PGlite in memory, in-memory bus; publisher)', `${params.gateways} gateway process(es) (alone, --expose-gc)${params.gatewayWorkers > 1 ? `, each a primary with ${params.gatewayWorkers} workers on its port` : ''}`, `${params.clients} client process(es), the harness's own WebSocket client (rawWebSocket.ts)`],
        gateway: process.env.BENCH_GATEWAY_ENTRY ? 'another copy of the gateway (BENCH_GATEWAY_ENTRY)' : 'apps/gateway of this commit',
        subscription: SUBSCRIPTION,
        publish: 'task.updated events (valid catalogue envelopes about existing tasks) published on the bus the task subgraph listens to',
      },
      params: { ...params, out: undefined },
      figures,
      target: { ...target, met: targets },
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
    // Stop clients first (they close their sockets), then the gateway, then the platform.
    for (const child of [...children].reverse()) {
      if (child.process.exitCode !== null || child.process.signalCode !== null) continue;
      await child.call(child.name.includes('client') ? 'close' : 'stop', undefined, 15_000).catch(() => child.process.kill('SIGKILL'));
    }
    await Promise.all(children.map((child) =>
      child.process.exitCode === null && child.process.signalCode === null
        // A --cpu-prof child writes its profile on the way out, which can take longer than a stop.
        ? Promise.race([new Promise((resolve) => child.process.once('exit', resolve)), sleep(params.profile ? 60_000 : 5_000).then(() => child.process.kill('SIGKILL'))])
        : undefined,
    ));
    clearTimeout(killer);
  }
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

// ---------------------------------------------------------------------------------------------

async function main() {
  const argv = process.argv.slice(2);
  const roleIndex = argv.indexOf('--role');
  if (roleIndex >= 0) {
    const role = argv[roleIndex + 1]!;
    const config = process.env[WORKER_CONFIG_ENV]
      ? JSON.parse(process.env[WORKER_CONFIG_ENV])
      : await new Promise<any>((resolve) => process.once('message', (message: { config: unknown }) => resolve(message.config)));
    if (role === 'platform') await runPlatform(config);
    else if (role === 'gateway') await runGateway(config);
    else await runClient(config);
    process.on('disconnect', () => process.exit(0)); // the orchestrator died: do not linger
    return;
  }
  await orchestrate(parseParams(argv));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
