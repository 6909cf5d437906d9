/**
 * The event pipeline under faults (issue: "a burst of thousands of task changes with a consumer
 * killed and restarted mid-burst, and with Redis restarted mid-burst, ends with every
 * notification and every counter exactly right").
 *
 * The burst goes through the real task service (its transactional outbox and relay), with real
 * tokens, straight to the task subgraph over HTTP. The test keeps its own model of who must be
 * notified and what analytics must count, then polls the gateway until notifications and
 * analytics read exactly that, and lists every notification to rule out duplicates.
 *
 * Redis persistence: the Redis of the distributed case runs with AOF (appendonly yes). A Redis
 * without persistence loses, on restart, every stream entry and consumer-group position: events
 * already marked published in the outboxes but not yet consumed would be lost. Persistence (AOF)
 * is therefore a deployment requirement of the distributed mode, not something the code can fix.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createPlatformEventBus } from '@meridian/domain-events';
import { loadAnalyticsConfig, startAnalyticsService } from '@meridian/analytics-subgraph';
import { loadNotificationConfig, startNotificationService } from '@meridian/notification-subgraph';
import { createLogger, type ServiceHandle } from '@meridian/service-kit';
import { freePort, freeStablePort, preparePlatformEnv, PrivateRedis, type PreparedEnv } from '@meridian/testing';
import { startDistributedPlatform, type DistributedPlatform } from '../src/distributed';
import { startPlatform, type Platform } from '../src/platform';
import { startProcess, type RunningProcess } from '../src/processes';
import {
  ExpectedModel,
  createCrashableBus,
  expectedNotificationLists,
  listNotifications,
  plannedMutations,
  runBurst,
  signUpUsers,
  sortedLists,
  waitForFigures,
  type TestUser,
} from './eventResilienceHarness';

const TASKS = Number(process.env.RESILIENCE_TASKS ?? 300);
const USERS = 10;
const CONCURRENCY = 8;
const SETTLE_TIMEOUT_MS = 90_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (message: string) => process.env.RESILIENCE_VERBOSE && console.log(`[resilience] ${message}`);

/** Polls until figures match the model, then lists every notification: no loss, no duplicate. */
async function expectExactlyRight(gatewayUrl: string, users: readonly TestUser[], model: ExpectedModel) {
  const started = Date.now();
  const expected = model.snapshot();
  const actual = await waitForFigures(gatewayUrl, users, expected, SETTLE_TIMEOUT_MS);
  log(`settled in ${Date.now() - started} ms`);
  expect(actual).toEqual(expected);
  expect(sortedLists(await listNotifications(gatewayUrl, users))).toEqual(expectedNotificationLists(model));
  // Still exactly right a moment later (nothing redelivered late counts twice).
  await sleep(1000);
  expect(await waitForFigures(gatewayUrl, users, expected, 5_000)).toEqual(expected);
}

describe('event resilience, embedded (in-memory bus + PGlite on disk)', () => {
  let prepared: PreparedEnv;
  let platform: Platform;
  let dataDir: string;
  const consumers: { stop(): Promise<void> }[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'meridian-resilience-'));
    prepared = await preparePlatformEnv({ name: 'embedded' });
    platform = await startPlatform({ env: { ...prepared.env, DATA_DIR: dataDir } });
  }, 60_000);

  afterAll(async () => {
    for (const consumer of consumers) await consumer.stop().catch(() => undefined);
    await platform?.stop();
    await prepared?.cleanup();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('crashes and restarts the notification and analytics consumers mid-burst: every notification and counter exact', async () => {
    const env = { ...prepared.env, DATA_DIR: dataDir, JWKS_URL: `${platform.services.auth.url}/.well-known/jwks.json` };
    const portOf = (handle: ServiceHandle) => new URL(handle.url).port;
    const ports = { notification: portOf(platform.services.notification), analytics: portOf(platform.services.analytics) };
    const starters = {
      notification: (bus: ReturnType<typeof createCrashableBus>['bus']) =>
        startNotificationService({
          config: loadNotificationConfig({ ...env, NOTIFICATION_PORT: ports.notification }),
          bus,
          logger: createLogger('notification', 'silent'),
        }),
      analytics: (bus: ReturnType<typeof createCrashableBus>['bus']) =>
        startAnalyticsService({ config: loadAnalyticsConfig({ ...env, ANALYTICS_PORT: ports.analytics }), bus, logger: createLogger('analytics', 'silent') }),
    };
    type Name = keyof typeof starters;
    const running = {} as Record<Name, { handle: ServiceHandle; crash(): Promise<number> }>;
    const launch = async (name: Name) => {
      const crashable = createCrashableBus(platform.bus);
      const handle = await starters[name](crashable.bus);
      consumers.push(handle);
      running[name] = { handle, crash: crashable.crash };
    };
    // Replace the platform's consumers by crashable ones on the same ports and data (the gateway routes there).
    for (const name of ['notification', 'analytics'] as const) {
      await platform.services[name].stop();
      await launch(name);
    }
    const crashes: Record<Name, number> = { notification: 0, analytics: 0 };
    const previous: Record<Name, Promise<void>> = { notification: Promise.resolve(), analytics: Promise.resolve() };
    // One crash/restart at a time per service (a small burst may reach the next fault before the restart is done).
    const crashAndRestart = (name: Name, downMs: number) => (previous[name] = previous[name].then(() => crashAndRestartNow(name, downMs)));
    const crashAndRestartNow = async (name: Name, downMs: number) => {
      const abandoned = await running[name].crash();
      log(`crashed ${name} with ${abandoned} deliveries in flight`);
      await running[name].handle.stop(); // closes its PGlite: the half-done transaction never commits
      crashes[name]++;
      await sleep(downMs); // producers keep going meanwhile
      await launch(name);
      log(`restarted ${name}`);
    };

    const users = await signUpUsers(platform.gatewayUrl, USERS, 'embedded');
    const model = new ExpectedModel(users);
    const planned = plannedMutations(TASKS);
    const faults: Promise<void>[] = [];
    const at = (fraction: number) => Math.floor(planned * fraction);
    const schedule: [number, () => Promise<void>][] = [
      [at(0.25), () => crashAndRestart('notification', 1000)],
      [at(0.4), () => crashAndRestart('analytics', 1000)],
      [at(0.7), async () => void (await Promise.all([crashAndRestart('notification', 500), crashAndRestart('analytics', 500)]))],
    ];
    const started = Date.now();
    await runBurst({
      taskUrl: `${platform.services.task.url}/graphql`,
      users,
      model,
      taskCount: TASKS,
      concurrency: CONCURRENCY,
      tag: 'embedded',
      onProgress: (done) => {
        for (const [threshold, fault] of schedule) if (done === threshold) faults.push(fault());
      },
    });
    log(`burst: ${model.mutations} mutations, ${model.events} task events, ${model.notificationCount} notifications in ${Date.now() - started} ms`);
    await Promise.all(faults);

    expect(model.events).toBeGreaterThanOrEqual(TASKS * 6);
    expect(crashes).toEqual({ notification: 2, analytics: 2 });
    await expectExactlyRight(platform.gatewayUrl, users, model);
    expect(await platform.bus.readDeadLetters('notification')).toEqual([]);
    expect(await platform.bus.readDeadLetters('analytics')).toEqual([]);
  }, 360_000);
});

const distributed = Boolean(process.env.TEST_POSTGRES_URL && process.env.TEST_REDIS_URL);

// Separate processes need PostgreSQL and Redis (a private redis-server is started for the restarts).
(distributed ? describe : describe.skip)('event resilience, distributed (processes + PostgreSQL + Redis Streams)', () => {
  let prepared: PreparedEnv;
  let platform: DistributedPlatform;
  let redis: PrivateRedis;
  let redisDir: string;
  let base: Record<string, string | undefined>;
  let ports: { auth: number; user: number; task: number; notification: number; analytics: number; gateway: number[] };
  let users: TestUser[];
  let model: ExpectedModel;
  let gatewayUrl: string;
  const restarted: RunningProcess[] = [];
  const ENTRIES = { notification: 'subgraphs/notification/src/main.ts', analytics: 'subgraphs/analytics/src/main.ts' } as const;

  beforeAll(async () => {
    redisDir = await mkdtemp(path.join(os.tmpdir(), 'meridian-resilience-redis-'));
    redis = new PrivateRedis(await freeStablePort(), redisDir);
    await redis.start();
    prepared = await preparePlatformEnv({ name: 'distributed' });
    const [auth, user, task, notification, analytics, gateway] = await Promise.all(Array.from({ length: 6 }, () => freePort()));
    ports = { auth: auth!, user: user!, task: task!, notification: notification!, analytics: analytics!, gateway: [gateway!] };
    const env = { ...process.env, ...prepared.env, REDIS_URL: redis.url, LOG_LEVEL: 'warn' };
    // The same environment startDistributedPlatform gives its processes (restarts must match it).
    base = {
      ...env,
      JWKS_URL: `http://127.0.0.1:${ports.auth}/.well-known/jwks.json`,
      AUTH_SUBGRAPH_URL: `http://127.0.0.1:${ports.auth}/graphql`,
      USER_SUBGRAPH_URL: `http://127.0.0.1:${ports.user}/graphql`,
      TASK_SUBGRAPH_URL: `http://127.0.0.1:${ports.task}/graphql`,
      NOTIFICATION_SUBGRAPH_URL: `http://127.0.0.1:${ports.notification}/graphql`,
      ANALYTICS_SUBGRAPH_URL: `http://127.0.0.1:${ports.analytics}/graphql`,
    };
    platform = await startDistributedPlatform({ env, ports });
    gatewayUrl = platform.gatewayUrls[0]!;
    users = await signUpUsers(gatewayUrl, USERS, 'distributed');
    model = new ExpectedModel(users);
  }, 120_000);

  afterAll(async () => {
    try {
      for (const child of restarted) await child.stop().catch(() => undefined);
      await platform?.stop();
      await prepared?.cleanup();
    } finally {
      await redis?.stop();
      if (redisDir) await rm(redisDir, { recursive: true, force: true });
    }
  }, 60_000);

  const current = (name: keyof typeof ENTRIES) =>
    [...restarted].reverse().find((child) => child.name === name) ?? platform.processes.find((child) => child.name === name)!;

  async function killAndRestart(name: keyof typeof ENTRIES, downMs: number) {
    const victim = current(name);
    const exited = new Promise((resolve) => victim.child.once('exit', resolve));
    log(`SIGKILL ${name} (pid ${victim.child.pid})`);
    victim.child.kill('SIGKILL');
    await exited;
    await sleep(downMs);
    const port = ports[name];
    const variable = `${name.toUpperCase()}_PORT`;
    const child = await startProcess({ name, entry: ENTRIES[name], env: { ...base, [variable]: String(port) }, healthUrl: `http://127.0.0.1:${port}/healthz` });
    restarted.push(child);
    log(`restarted ${name} (pid ${child.child.pid})`);
  }

  async function burst(tag: string, schedule: [number, () => Promise<void>][]) {
    const faults: Promise<void>[] = [];
    const offset = model.mutations;
    const eventsBefore = model.events;
    const started = Date.now();
    await runBurst({
      taskUrl: `http://127.0.0.1:${ports.task}/graphql`,
      users,
      model,
      taskCount: TASKS,
      concurrency: CONCURRENCY,
      tag,
      onProgress: (done) => {
        for (const [threshold, fault] of schedule) if (done - offset === threshold) faults.push(fault());
      },
    });
    log(`burst ${tag}: ${model.mutations - offset} mutations, ${model.events - eventsBefore} task events in ${Date.now() - started} ms`);
    await Promise.all(faults);
    if (process.env.RESILIENCE_VERBOSE) {
      for (const child of [...platform.processes, ...restarted]) {
        const lines = child.output().split('\n').filter((line) => /redis|relay|dead|retry/i.test(line));
        log(`${child.name} (pid ${child.child.pid}): ${lines.length} redis/relay/retry log lines; last: ${lines.slice(-2).join(' | ').slice(0, 400)}`);
      }
    }
    expect(model.events - eventsBefore).toBeGreaterThanOrEqual(TASKS * 6);
  }

  async function expectNoDeadLetters() {
    const bus = createPlatformEventBus({ redisUrl: redis.url, streamPrefix: base.EVENT_STREAM_PREFIX as string });
    try {
      expect(await bus.readDeadLetters('notification')).toEqual([]);
      expect(await bus.readDeadLetters('analytics')).toEqual([]);
    } finally {
      await bus.close();
    }
  }

  it('SIGKILLs the notification and analytics processes mid-burst and restarts them: every notification and counter exact', async () => {
    const planned = plannedMutations(TASKS);
    await burst('kill', [
      [Math.floor(planned * 0.3), () => killAndRestart('notification', 1000)],
      [Math.floor(planned * 0.5), () => killAndRestart('analytics', 1000)],
    ]);
    expect(restarted.map((child) => child.name).sort()).toEqual(['analytics', 'notification']);
    await expectExactlyRight(gatewayUrl, users, model);
    await expectNoDeadLetters();
  }, 180_000);

  it('kills Redis (SIGKILL) mid-burst and restarts it from its AOF: producers, relays and consumers ride it out', async () => {
    const planned = plannedMutations(TASKS);
    let redisRestarts = 0;
    let previous = Promise.resolve();
    // One restart at a time (a fast burst may reach the second fault before the first restart is done).
    const restartRedis = (downMs: number) => (previous = previous.then(() => restartRedisNow(downMs)));
    const restartRedisNow = async (downMs: number) => {
      log('SIGKILL redis');
      await redis.kill();
      await sleep(downMs);
      await redis.start();
      redisRestarts++;
      log('redis back');
    };
    await burst('redis', [
      [Math.floor(planned * 0.3), () => restartRedis(2000)],
      [Math.floor(planned * 0.7), () => restartRedis(500)],
    ]);
    expect(redisRestarts).toBe(2);
    await expectExactlyRight(gatewayUrl, users, model);
    await expectNoDeadLetters();
  }, 180_000);
});
