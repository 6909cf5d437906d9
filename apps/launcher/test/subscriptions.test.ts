import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { eventually, getTestModes, graphqlOk, preparePlatformEnv, type PreparedEnv } from '@meridian/testing';
import { startGatewayService, loadGatewayConfig, type GatewayHandle } from '@meridian/gateway';
import { startTaskService, loadTaskConfig } from '@meridian/task-subgraph';
import { createLogger } from '@meridian/service-kit';
import { startPlatform, type Platform } from '../src/platform';
import { collect, primeStreams, signUp, TASK_CHANGED, titleIs, wsClient, type SignedUp } from './subscriptionHelpers';

const CREATE_TASK = `mutation($title: String!, $a: ID) { createTask(input: { title: $title, assigneeId: $a }) { id } }`;

describe.each(getTestModes())('subscriptions through the gateway ($name)', (mode) => {
  let prepared: PreparedEnv;
  let platform: Platform;
  let url: string;
  let ada: SignedUp;
  const extraGateways: GatewayHandle[] = [];
  /** Services a test started itself: the platform's own stop() does not know them. */
  const extraServices: { stop(): Promise<void> }[] = [];

  function routingEnv() {
    const env: Record<string, string> = { ...prepared.env, JWKS_URL: `${platform.services.auth.url}/.well-known/jwks.json` };
    for (const name of ['auth', 'user', 'task', 'notification', 'analytics'] as const) {
      env[`${name.toUpperCase()}_SUBGRAPH_URL`] = `${platform.services[name].url}/graphql`;
    }
    return env;
  }

  async function startExtraGateway(env: Record<string, string> = {}) {
    const gateway = await startGatewayService({
      config: loadGatewayConfig({ ...routingEnv(), GATEWAY_PORT: '0', ...env }),
      logger: createLogger('gateway-extra', 'silent'),
    });
    extraGateways.push(gateway);
    return gateway;
  }

  const createTask = (title: string, token = ada.accessToken, assigneeId: string | null = ada.userId, gatewayUrl = url) =>
    graphqlOk(gatewayUrl, CREATE_TASK, { token, variables: { title, a: assigneeId } });

  beforeAll(async () => {
    prepared = await preparePlatformEnv(mode);
    platform = await startPlatform({ env: prepared.env });
    url = platform.gatewayUrl;
    ada = await signUp(url, 'Ada');
  });

  afterAll(async () => {
    for (const gateway of extraGateways) await gateway.stop();
    for (const service of extraServices) await service.stop();
    await platform?.stop();
    await prepared?.cleanup();
  });

  it('delivers events whose selection reaches into other subgraphs (graphql-ws)', async () => {
    const client = wsClient(url, ada.accessToken);
    const stream = collect(client.iterate({ query: TASK_CHANGED }));
    await primeStreams([stream], () => createTask('probe', ada.accessToken, null));
    await createTask('Cross-subgraph');
    await stream.waitForMatch((event) => titleIs('Cross-subgraph')(event) && event.data.taskChanged.kind === 'ASSIGNED');
    const events = stream.received.filter(titleIs('Cross-subgraph'));
    expect(events).toEqual([
      { data: { taskChanged: { cursor: expect.any(String), kind: 'CREATED', task: { title: 'Cross-subgraph', assignee: { displayName: 'Ada' } }, actor: { displayName: 'Ada' } } } },
      { data: { taskChanged: { cursor: expect.any(String), kind: 'ASSIGNED', task: { title: 'Cross-subgraph', assignee: { displayName: 'Ada' } }, actor: { displayName: 'Ada' } } } },
    ]);
    await stream.stop();
    await client.dispose();
  });

  it('shares one upstream subscription between identical subscriptions of one user', async () => {
    const stats = () => platform.services.gateway.stats();
    // Earlier tests' subscriptions end asynchronously; start from a quiet gateway.
    await waitUntil(() => stats().subscribers === 0 && stats().upstreamSubscriptions === 0);
    const first = wsClient(url, ada.accessToken);
    const second = wsClient(url, ada.accessToken);
    const a = collect(first.iterate({ query: TASK_CHANGED }));
    const b = collect(second.iterate({ query: TASK_CHANGED }));
    await waitUntil(() => stats().subscribers === 2);
    expect(stats().upstreamSubscriptions).toBe(1);
    await primeStreams([a, b], () => createTask('probe', ada.accessToken, null));
    await createTask('Shared', ada.accessToken, null);
    expect(await a.waitForMatch(titleIs('Shared'))).toEqual(await b.waitForMatch(titleIs('Shared')));
    await a.stop();
    await b.stop();
    await first.dispose();
    await second.dispose();
    await waitUntil(() => stats().upstreamSubscriptions === 0);
  });

  it('resumes from a cursor with no gap and no duplicate, also on a restarted gateway', async () => {
    const client = wsClient(url, ada.accessToken);
    const live = collect(client.iterate({ query: TASK_CHANGED }));
    await primeStreams([live], () => createTask('probe', ada.accessToken, null));
    await createTask('Before the disconnect', ada.accessToken, null);
    const seen = await live.waitForMatch(titleIs('Before the disconnect'));
    const cursor = seen.data.taskChanged.cursor as string;
    await live.stop();
    await client.dispose();

    // While disconnected, more happens; meanwhile the gateway the client used goes away.
    await createTask('Missed one', ada.accessToken, null);
    await createTask('Missed two', ada.accessToken, null);
    const restarted = await startExtraGateway();

    const again = wsClient(`${restarted.url}/graphql`, ada.accessToken);
    const resumed = collect(again.iterate({ query: TASK_CHANGED, variables: { after: cursor } }));
    const missed = await resumed.waitFor(2);
    expect(missed.map((event) => event.data.taskChanged.task.title)).toEqual(['Missed one', 'Missed two']);
    await createTask('Live again', ada.accessToken, null);
    const all = await resumed.waitFor(3);
    expect(all.map((event) => event.data.taskChanged.task.title)).toEqual(['Missed one', 'Missed two', 'Live again']);
    expect(new Set(all.map((event) => event.data.taskChanged.cursor)).size).toBe(3);
    expect(all.map((event) => event.data.taskChanged.cursor)).not.toContain(cursor);
    await resumed.stop();
    await again.dispose();
  });

  it('delivers an event produced through one gateway to subscribers of another', async () => {
    const other = await startExtraGateway();
    const client = wsClient(`${other.url}/graphql`, ada.accessToken);
    const stream = collect(client.iterate({ query: TASK_CHANGED }));
    // Probes go through the first gateway: what the second delivers was produced elsewhere.
    await primeStreams([stream], () => createTask('probe', ada.accessToken, null, url));
    await createTask('Via the first gateway', ada.accessToken, null, url);
    expect((await stream.waitForMatch(titleIs('Via the first gateway'))).data.taskChanged.kind).toBe('CREATED');
    await stream.stop();
    await client.dispose();
  });

  it('delivers each user only their own notifications, with fields from other subgraphs', async () => {
    const bob = await signUp(url, 'Bob');
    const query = `subscription { notificationReceived { cursor unreadCount notification { kind title task { title } } } }`;
    const adaClient = wsClient(url, ada.accessToken);
    const bobClient = wsClient(url, bob.accessToken);
    const adas = collect(adaClient.iterate({ query }));
    const bobs = collect(bobClient.iterate({ query }));
    const taskTitle = (event: any) => event?.data?.notificationReceived?.notification?.task?.title;
    // Probes: each user assigns the other a task until both streams are live.
    await primeStreams([adas, bobs], async () => {
      await createTask('probe for Bob', ada.accessToken, bob.userId);
      await createTask('probe for Ada', bob.accessToken, ada.userId);
    });
    await createTask('For Bob only', ada.accessToken, bob.userId);
    const forBob = await bobs.waitForMatch((event) => taskTitle(event) === 'For Bob only');
    expect(forBob.data.notificationReceived.notification).toEqual({ kind: 'TASK_ASSIGNED', title: expect.any(String), task: { title: 'For Bob only' } });
    expect(forBob.data.notificationReceived.unreadCount).toBeGreaterThan(0);
    await createTask('For Ada only', bob.accessToken, ada.userId);
    await adas.waitForMatch((event) => taskTitle(event) === 'For Ada only');
    // Ada's stream carried Ada's notifications only: never the one addressed to Bob.
    expect(adas.received.map(taskTitle)).not.toContain('For Bob only');
    expect(bobs.received.map(taskTitle)).not.toContain('For Ada only');
    expect(adas.received.map(taskTitle)).not.toContain('probe for Bob');
    await adas.stop();
    await bobs.stop();
    await adaClient.dispose();
    await bobClient.dispose();
  });

  it('pushes dashboard statistics as the analytics read models change', async () => {
    const client = wsClient(url, ada.accessToken);
    const stream = collect(client.iterate({ query: `subscription { statsUpdated(preset: LAST_7_DAYS) { totals { tasksCreated } } }` }));
    await primeStreams([stream], () => createTask('probe', ada.accessToken, null));
    const { dashboardStats } = await graphqlOk(url, '{ dashboardStats(preset: LAST_7_DAYS) { totals { tasksCreated } } }', { token: ada.accessToken });
    await createTask('Counted', ada.accessToken, null);
    await stream.waitForMatch((event) => event.data.statsUpdated.totals.tasksCreated > dashboardStats.totals.tasksCreated);
    await stream.stop();
    await client.dispose();
  });

  it('closes with 4403 when connection_init carries a bad token', async () => {
    const closed = new Promise<number>((resolve) => {
      const client = wsClient(url, 'not.a.token', { on: { closed: (event) => resolve((event as { code: number }).code) } });
      collect(client.iterate({ query: TASK_CHANGED }));
    });
    expect(await closed).toBe(4403);
  });

  it('refuses anonymous subscribers with UNAUTHENTICATED', async () => {
    const client = wsClient(url);
    const stream = collect(client.iterate({ query: TASK_CHANGED }));
    await stream.waitForEnd();
    expect(JSON.stringify(stream.failure ?? stream.received)).toContain('UNAUTHENTICATED');
    await client.dispose();
  });

  it('enforces the connection_init timeout (4408) and the per-connection limit', async () => {
    const strict = await startExtraGateway({ WS_CONNECTION_INIT_TIMEOUT_MS: '200', MAX_SUBSCRIPTIONS_PER_CONNECTION: '2' });
    const strictUrl = `${strict.url}/graphql`;
    const { default: WebSocket } = await import('ws');
    const silent = new WebSocket(strictUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const code = await new Promise<number>((resolve) => silent.on('close', (closeCode) => resolve(closeCode)));
    expect(code).toBe(4408);

    const client = wsClient(strictUrl, ada.accessToken);
    const first = collect(client.iterate({ query: TASK_CHANGED }));
    const second = collect(client.iterate({ query: TASK_CHANGED }));
    await waitUntil(() => strict.stats().subscribers === 2);
    const third = collect(client.iterate({ query: TASK_CHANGED }));
    await third.waitForEnd();
    expect(JSON.stringify(third.failure ?? third.received)).toContain('At most 2 subscriptions per connection');
    await first.stop();
    await second.stop();
    await client.dispose();
  });

  it('serves Apollo Client over WebSocket and over HTTP multipart', async () => {
    const wsLinkClient = wsClient(url, ada.accessToken);
    const overWs = new ApolloClient({ link: new GraphQLWsLink(wsLinkClient), cache: new InMemoryCache() });
    const overHttp = new ApolloClient({
      link: new HttpLink({ uri: url, headers: { authorization: `Bearer ${ada.accessToken}` } }),
      cache: new InMemoryCache(),
    });
    const query = gql(TASK_CHANGED);
    const wsStream = collect(toAsyncIterable(overWs.subscribe({ query })));
    const httpStream = collect(toAsyncIterable(overHttp.subscribe({ query })));
    await primeStreams([wsStream, httpStream], () => createTask('probe', ada.accessToken, null));
    await createTask('For Apollo Client', ada.accessToken, null);
    expect((await wsStream.waitForMatch(titleIs('For Apollo Client'))).data.taskChanged.kind).toBe('CREATED');
    expect((await httpStream.waitForMatch(titleIs('For Apollo Client'))).data.taskChanged.kind).toBe('CREATED');
    await wsStream.stop();
    await httpStream.stop();
    await wsLinkClient.dispose();
  });

  it('streams over Server-Sent Events', async () => {
    const controller = new AbortController();
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${ada.accessToken}` },
      body: JSON.stringify({ query: TASK_CHANGED }),
      signal: controller.signal,
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    let text = '';
    // Probe until the stream is live, then the real change.
    const reading = (async () => {
      while (!text.includes('Over SSE')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
    })();
    await primeStreams([{ get received() { return text.includes('probe') ? [text] : []; } }], () => createTask('probe', ada.accessToken, null));
    await createTask('Over SSE', ada.accessToken, null);
    await reading;
    expect(text).toMatch(/event: next\ndata: \{"data":\{"taskChanged":/);
    controller.abort();
  });

  it("completes events with entity fetches after the request's deadline has passed (SSE)", async () => {
    // A gateway of its own with short deadlines (rather than a whole platform started for them).
    const patient = await startExtraGateway({ GATEWAY_REQUEST_TIMEOUT_MS: '1500', SUBGRAPH_TIMEOUT_MS: '1000' });
    const patientUrl = `${patient.url}/graphql`;
    const user = await signUp(patientUrl, 'Patient');
    const controller = new AbortController();
    const response = await fetch(patientUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${user.accessToken}` },
      body: JSON.stringify({ query: TASK_CHANGED }),
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    let text = '';
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) break;
        text += new TextDecoder().decode(value);
      }
    })();
    const create = (title: string) => graphqlOk(patientUrl, CREATE_TASK, { token: user.accessToken, variables: { title, a: null } });
    await primeStreams([{ get received() { return text.includes('probe') ? [text] : []; } }], () => create('probe'));
    // Past the 1.5 s the request had: the event's actor comes from the user subgraph all the same.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const mark = text.length;
    await create('Late');
    const late = await eventually(() => {
      const line = text.slice(mark).split('\n').find((each) => each.startsWith('data: '));
      expect(line).toBeDefined();
      return JSON.parse(line!.slice('data: '.length));
    });
    expect(late.errors).toBeUndefined();
    expect(late.data.taskChanged.task.title).toBe('Late');
    expect(late.data.taskChanged.actor).toEqual({ displayName: 'Patient' });
    controller.abort();
  });

  it('ends subscriptions with an error when their subgraph goes away, and works again once it is back', async () => {
    const client = wsClient(url, ada.accessToken);
    const stream = collect(client.iterate({ query: TASK_CHANGED }));
    await waitUntil(() => platform.services.gateway.stats().upstreamSubscriptions >= 1);
    const taskUrl = new URL(platform.services.task.url);
    await platform.services.task.stop();
    await stream.waitForEnd();
    expect(JSON.stringify(stream.failure ?? stream.received)).toContain('SUBGRAPH_UNAVAILABLE');

    const env: Record<string, string> = { ...prepared.env, TASK_PORT: taskUrl.port, JWKS_URL: `${platform.services.auth.url}/.well-known/jwks.json` };
    const task = await startTaskService({ config: loadTaskConfig(env), bus: platform.bus, logger: createLogger('task', 'silent') });
    extraServices.push(task);
    platform.services.task = task;
    const again = collect(client.iterate({ query: TASK_CHANGED }));
    await primeStreams([again], () => createTask('probe', ada.accessToken, null));
    await createTask('After the comeback', ada.accessToken, null);
    expect((await again.waitForMatch(titleIs('After the comeback'))).data.taskChanged.kind).toBe('CREATED');
    await again.stop();
    await client.dispose();
  });
});

describe('token expiry', () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform({
      env: { ...(await preparePlatformEnv({ name: 'embedded' })).env, ACCESS_TOKEN_TTL_SECONDS: '2' },
    });
  });
  afterAll(() => platform?.stop());

  it('ends a subscription with UNAUTHENTICATED when the access token expires', async () => {
    const user = await signUp(platform.gatewayUrl, 'Shortlived');
    const client = wsClient(platform.gatewayUrl, user.accessToken);
    const stream = collect(client.iterate({ query: TASK_CHANGED }));
    await stream.waitForEnd(10_000);
    expect(JSON.stringify(stream.failure ?? stream.received)).toContain('Access token expired');
    await client.dispose();
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('Condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Apollo Client 4 returns an Observable; the tests read it as an async iterable. */
function toAsyncIterable<T>(observable: { subscribe(observer: { next(value: T): void; error(error: unknown): void; complete(): void }): { unsubscribe(): void } }): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const queue: T[] = [];
      let wake: (() => void) | undefined;
      let done = false;
      let failure: unknown;
      const subscription = observable.subscribe({
        next: (value) => {
          queue.push(value);
          wake?.();
        },
        error: (error) => {
          failure = error;
          done = true;
          wake?.();
        },
        complete: () => {
          done = true;
          wake?.();
        },
      });
      return {
        async next() {
          for (;;) {
            const value = queue.shift();
            if (value !== undefined) return { done: false, value };
            if (failure) throw failure;
            if (done) return { done: true, value: undefined };
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
          }
        },
        async return() {
          subscription.unsubscribe();
          return { done: true, value: undefined };
        },
      };
    },
  };
}
