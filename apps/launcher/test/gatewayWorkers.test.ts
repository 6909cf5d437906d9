import http from 'node:http';
import net from 'node:net';
import WebSocket from 'ws';
import { eventually, freePort, graphqlOk, preparePlatformEnv, type PreparedEnv } from '@meridian/testing';
import { startPlatform, type Platform } from '../src/platform';
import { startProcess, type RunningProcess } from '../src/processes';
import { collect, primeStreams, signUp, TASK_CHANGED, titleIs, wsClient, type SignedUp } from './subscriptionHelpers';

jest.setTimeout(180_000);

const CREATE_TASK = `mutation($title: String!) { createTask(input: { title: $title }) { id } }`;

/** A POST on a connection of its own, so that consecutive requests reach different workers. */
function postOnNewConnection(url: string, body: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
    });
    request.on('error', reject);
    request.end(JSON.stringify(body));
  });
}

function getOnNewConnection(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => (response.statusCode === 200 ? resolve(text) : reject(new Error(`GET ${url}: ${response.statusCode} ${text}`))));
      })
      .on('error', reject);
  });
}

/** Sum of a metric's samples whose labels include every `labels` pair. */
function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Opens a graphql-transport-ws connection and waits for its acknowledgement. */
async function openAcknowledged(url: string, token: string): Promise<{ socket: WebSocket; closed: Promise<number> }> {
  const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    socket.once('message', (data) => ((JSON.parse(String(data)) as { type: string }).type === 'connection_ack' ? resolve() : reject(new Error(String(data)))));
    socket.once('error', reject);
  });
  return { socket, closed };
}

/**
 * The gateway as GATEWAY_WORKERS=2 processes on one port (node:cluster), in front of a real
 * platform: both workers serve, /metrics sums them, a subscription event reaches subscribers on
 * either worker, a killed worker is replaced while the other keeps its connections, and SIGTERM
 * stops them all with exit code 0.
 */
describe('gateway with two worker processes', () => {
  let prepared: PreparedEnv;
  let platform: Platform;
  let gateway: RunningProcess;
  let env: Record<string, string | undefined>;
  let url: string;
  let ada: SignedUp;
  let pids: number[] = [];

  beforeAll(async () => {
    prepared = await preparePlatformEnv({ name: 'embedded' });
    platform = await startPlatform({ env: prepared.env });
    const port = await freePort();
    env = {
      ...process.env,
      ...prepared.env,
      LOG_LEVEL: 'warn',
      GATEWAY_PORT: String(port),
      GATEWAY_WORKERS: '2',
      // Low enough for a test to reach it (the relayed-streams test below opens 32 for one user).
      MAX_SUBSCRIPTIONS_PER_USER: '40',
      // The test environment lifts the sign-in budget; the rate budget test below needs it.
      AUTH_RATE_LIMIT_POINTS: '10',
      JWKS_URL: `${platform.services.auth.url}/.well-known/jwks.json`,
      SHUTDOWN_TIMEOUT_MS: '10000',
    };
    for (const name of ['auth', 'user', 'task', 'notification', 'analytics'] as const) {
      env[`${name.toUpperCase()}_SUBGRAPH_URL`] = `${platform.services[name].url}/graphql`;
    }
    gateway = await startProcess({ name: 'gateway', entry: 'apps/gateway/src/main.ts', env, healthUrl: `http://127.0.0.1:${port}/healthz` }, 150_000);
    url = `http://127.0.0.1:${port}/graphql`;
    const started = await eventually(() => {
      const match = /gateway: 2 workers started \(pids (\d+), (\d+)\)/.exec(gateway.output());
      expect(match).not.toBeNull();
      return match!;
    }, 60_000);
    pids = [Number(started[1]), Number(started[2])];
    ada = await signUp(url, 'Ada');
  }, 300_000);

  afterAll(async () => {
    await gateway?.stop();
    await platform?.stop();
    await prepared?.cleanup();
  });

  it('runs two processes besides the primary, and /metrics on either answers for both and the primary', async () => {
    expect(pids).toHaveLength(2);
    expect(new Set([...pids, gateway.child.pid]).size).toBe(3);
    const requests = 20;
    for (let index = 0; index < requests; index++) {
      const response = await postOnNewConnection(url, { query: 'query WorkersProbe { __typename }' });
      expect(response).toEqual({ status: 200, body: expect.stringContaining('"__typename":"Query"') });
    }
    // Each scrape is on a new connection too, so they reach both workers: every one sees all 20.
    for (let scrape = 0; scrape < 4; scrape++) {
      const text = await getOnNewConnection(url.replace('/graphql', '/metrics'));
      expect(metricSum(text, 'meridian_graphql_requests_total', { operation: 'WorkersProbe' })).toBe(requests);
      // The primary's own process, besides the workers' (summed).
      expect(metricSum(text, 'meridian_primary_process_resident_memory_bytes')).toBeGreaterThan(0);
      expect(metricSum(text, 'meridian_process_resident_memory_bytes')).toBeGreaterThan(0);
    }
  });

  it('delivers an event to subscribers on both workers from one upstream subscription, also for two users', async () => {
    // Two MEMBERs on a selection the subgraphs declare public share one stream (ADR 0023).
    const hal = await signUp(url, 'Hal');
    const first = wsClient(url, ada.accessToken);
    const second = wsClient(url, hal.accessToken);
    const a = collect(first.iterate({ query: TASK_CHANGED }));
    const b = collect(second.iterate({ query: TASK_CHANGED }));
    const createTask = (title: string) => graphqlOk(url, CREATE_TASK, { token: ada.accessToken, variables: { title } });
    await primeStreams([a, b], () => createTask('probe'));
    // The two connections went to the two workers: one holds the upstream subscription, the other
    // a stream relayed from it. The gateway subscribes upstream once, not once per worker or user.
    const text = await getOnNewConnection(url.replace('/graphql', '/metrics'));
    expect(metricSum(text, 'meridian_gateway_subscriptions_active')).toBe(2);
    expect(metricSum(text, 'meridian_gateway_upstream_subscriptions')).toBe(1);
    expect(metricSum(text, 'meridian_gateway_relayed_subscriptions')).toBe(1);
    expect(metricSum(text, 'meridian_gateway_upstream_websockets')).toBe(1);
    await createTask('Seen by both workers');
    const [fromA, fromB] = await Promise.all([a.waitForMatch(titleIs('Seen by both workers')), b.waitForMatch(titleIs('Seen by both workers'))]);
    expect(fromA).toEqual(fromB);
    expect(fromA.data.taskChanged.task.title).toBe('Seen by both workers');
    await a.stop();
    await b.stop();
    await first.dispose();
    await second.dispose();
  });

  it('holds MAX_SUBSCRIPTIONS_PER_USER for the whole gateway, not per worker', async () => {
    const grace = await signUp(url, 'Grace');
    const createTask = (title: string) => graphqlOk(url, CREATE_TASK, { token: grace.accessToken, variables: { title } });
    const subscribe = (client: ReturnType<typeof wsClient>) => collect(client.iterate({ query: TASK_CHANGED }));
    // Two connections, one per worker (checked below): 20 subscriptions on each, 40 in all.
    const clients = [wsClient(url, grace.accessToken), wsClient(url, grace.accessToken)];
    const streams = clients.map((client) => Array.from({ length: 20 }, () => subscribe(client)));
    await primeStreams(streams.flat(), () => createTask('probe'));
    const text = await getOnNewConnection(url.replace('/graphql', '/metrics'));
    expect(metricSum(text, 'meridian_gateway_subscriptions_active')).toBe(40);
    // The worker that does not own the stream key relays it: Grace has clients on both workers.
    expect(metricSum(text, 'meridian_gateway_relayed_subscriptions')).toBe(1);

    // Each worker holds 20, under the limit on its own; the gateway as a whole is at 40.
    const refused = clients.map(subscribe);
    for (const stream of refused) {
      await stream.waitForEnd();
      expect(stream.received).toEqual([{ errors: [expect.objectContaining({ message: 'At most 40 subscriptions per user.', extensions: expect.objectContaining({ code: 'RATE_LIMITED' }) })] }]);
    }

    // A place freed on one worker can be taken on the other.
    await streams[0]![0]!.stop();
    // The release reaches the primary a moment after the client's `complete`: a refusal meanwhile
    // comes at once (the stream ends), so try again until one stays open.
    let again: ReturnType<typeof subscribe> | undefined;
    for (let attempt = 0; attempt < 30 && !again; attempt++) {
      const stream = subscribe(clients[1]!);
      await new Promise((resolve) => setTimeout(resolve, 300));
      if (!stream.ended) again = stream;
    }
    expect(again).toBeDefined();
    await primeStreams([again!], () => createTask('probe again'));
    await Promise.all([again!, ...streams.flat().slice(1)].map((stream) => stream.stop()));
    await Promise.all(clients.map((client) => client.dispose()));
    await eventually(async () => {
      const after = await getOnNewConnection(url.replace('/graphql', '/metrics'));
      expect(metricSum(after, 'meridian_gateway_subscriptions_active')).toBe(0);
    }, 10_000);
  });

  it('ends the streams a dead worker held for the other with SUBSCRIPTION_INTERRUPTED; they can subscribe again', async () => {
    const createTask = (title: string) => graphqlOk(url, CREATE_TASK, { token: ada.accessToken, variables: { title } });
    // 16 operation names, 16 shared streams: spread over the two workers by their hash, so each
    // worker holds some of them (all on one worker: probability 2^-15).
    const names = Array.from({ length: 16 }, (_, index) => `Relayed${index}`);
    const subscribe = (client: ReturnType<typeof wsClient>, name: string) =>
      collect(client.iterate({ query: TASK_CHANGED.replace('subscription TaskChanged', `subscription ${name}`) }));
    const clients = [wsClient(url, ada.accessToken), wsClient(url, ada.accessToken)];
    const streams = clients.map((client) => names.map((name) => subscribe(client, name)));
    await primeStreams(streams.flat(), () => createTask('probe'));
    const before = gateway.output().length;
    const victim = pids[0]!;
    process.kill(victim, 'SIGKILL');
    await eventually(() => expect(gateway.output()).toContain(`gateway: worker ${victim} exited (signal SIGKILL), starting another`), 20_000);

    // The client on the dead worker lost its connection; on the other client, the streams the dead
    // worker held end with SUBSCRIPTION_INTERRUPTED and the rest go on.
    const lost = await eventually(() => {
      const index = streams.findIndex((each) => each.every((stream) => stream.ended && stream.failure !== undefined));
      expect(index).not.toBe(-1);
      return index;
    }, 10_000);
    const survivor = streams[1 - lost]!;
    const isInterrupted = (stream: (typeof survivor)[number]) =>
      stream.received.some((result: any) => result.errors?.[0]?.extensions?.code === 'SUBSCRIPTION_INTERRUPTED');
    await createTask('After the worker died');
    await eventually(() => expect(survivor.every((stream) => stream.ended || stream.received.some(titleIs('After the worker died')))).toBe(true), 10_000);
    const interrupted = names.filter((_, index) => survivor[index]!.ended);
    expect(interrupted.length).toBeGreaterThan(0);
    for (const name of interrupted) expect(isInterrupted(survivor[names.indexOf(name)]!)).toBe(true);
    const going = survivor.filter((stream) => !stream.ended);
    expect(going.length).toBeGreaterThan(0);

    // Once the replacement is up, the interrupted operations subscribe again (through it).
    const replacement = await eventually(() => {
      const match = /gateway: worker (\d+) started/.exec(gateway.output().slice(before));
      expect(match).not.toBeNull();
      return Number(match![1]);
    }, 60_000);
    pids = [pids[1]!, replacement];
    const again = interrupted.map((name) => subscribe(clients[1 - lost]!, name));
    await primeStreams(again, () => createTask('probe again'));
    await createTask('Through the replacement');
    await Promise.all([...again, ...going].map((stream) => stream.waitForMatch(titleIs('Through the replacement'))));

    // When the clients leave, the relayed streams end and so do the upstream subscriptions.
    await Promise.all([...again, ...going].map((stream) => stream.stop()));
    await Promise.all(clients.map((client) => client.dispose()));
    await eventually(async () => {
      const text = await getOnNewConnection(url.replace('/graphql', '/metrics'));
      expect(metricSum(text, 'meridian_gateway_upstream_subscriptions')).toBe(0);
      expect(metricSum(text, 'meridian_gateway_relayed_subscriptions')).toBe(0);
      expect(metricSum(text, 'meridian_gateway_subscriptions_active')).toBe(0);
    }, 10_000);
  });

  it('replaces a worker that dies; the other keeps its connections', async () => {
    const sockets: { socket: WebSocket; closed: Promise<number> }[] = [];
    for (let index = 0; index < 4; index++) sockets.push(await openAcknowledged(url, ada.accessToken));
    const before = gateway.output().length;
    const victim = pids[0]!;
    process.kill(victim, 'SIGKILL');
    await eventually(() => expect(gateway.output()).toContain(`gateway: worker ${victim} exited (signal SIGKILL), starting another`), 20_000);
    // Connections alternate between the workers: those on the killed one close, the rest stay open.
    const closedCount = await eventually(() => {
      const count = sockets.filter(({ socket }) => socket.readyState === WebSocket.CLOSED).length;
      expect(count).toBeGreaterThan(0);
      return count;
    }, 10_000);
    expect(closedCount).toBeLessThan(sockets.length);
    const replacement = await eventually(() => {
      const match = /gateway: worker (\d+) started/.exec(gateway.output().slice(before));
      expect(match).not.toBeNull();
      return Number(match![1]);
    }, 60_000);
    expect(alive(replacement)).toBe(true);
    pids = [pids[1]!, replacement];
    // The survivors still answer, and new connections (on either worker) work.
    for (const { socket } of sockets.filter(({ socket }) => socket.readyState === WebSocket.OPEN)) {
      const pong = new Promise<void>((resolve) => socket.once('message', () => resolve()));
      socket.send(JSON.stringify({ type: 'ping' }));
      await pong;
      socket.close(1000);
    }
    for (let index = 0; index < 4; index++) {
      const response = await postOnNewConnection(url, { query: '{ __typename }' });
      expect(response.status).toBe(200);
    }
  });

  it('shares rate budgets between the workers when there is no Redis', async () => {
    // Auth mutations from one address get AUTH_RATE_LIMIT_POINTS (10 a minute, sign-ups above
    // included) from the whole gateway; each worker counting alone would let ~20 of 24 through.
    const logIn = { query: 'mutation { logIn(input: { email: "nobody@example.com", password: "not the password" }) { accessToken } }' };
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 24; attempt++) statuses.push((await postOnNewConnection(url, logIn)).status);
    const refused = statuses.filter((status) => status === 429).length;
    expect(refused).toBeGreaterThanOrEqual(14);
    expect(refused).toBeLessThan(24);
  });

  it('stops every worker on SIGTERM and exits 0', async () => {
    await gateway.stop();
    expect(await gateway.exited).toEqual({ code: 0, signal: null });
    for (const pid of pids) expect(alive(pid)).toBe(false);
    await expect(postOnNewConnection(url, { query: '{ __typename }' })).rejects.toThrow();
  });
});

describe('gateway workers that cannot start', () => {
  it('exits 1 with the reason when the port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const started = startProcess(
        { name: 'gateway', entry: 'apps/gateway/src/main.ts', env: { ...process.env, LOG_LEVEL: 'warn', GATEWAY_PORT: String(taken), GATEWAY_WORKERS: '2' }, healthUrl: 'http://127.0.0.1:1/never' },
        60_000,
      );
      await expect(started).rejects.toThrow(new RegExp(`gateway failed to start: Port ${taken} on 127.0.0.1 is already in use[\\s\\S]*before every worker had started`));
    } finally {
      blocker.close();
    }
  });
});
