import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { eventually, getTestModes, graphqlOk, preparePlatformEnv, type PreparedEnv } from '@meridian/testing';
import { startGatewayService, loadGatewayConfig, type GatewayHandle } from '@meridian/gateway';
import { createLogger } from '@meridian/service-kit';
import { startPlatform, type Platform } from '../src/platform';
import { collect, primeStreams, signUp, TASK_CHANGED, titleIs, wsClient, type SignedUp } from './subscriptionHelpers';

const CREATE_TASK = `mutation($title: String!, $a: ID) { createTask(input: { title: $title, assigneeId: $a }) { id } }`;

/**
 * A real HTTP proxy in front of a subgraph that records every GraphQL request it forwards and
 * passes the subgraph's Cache-Control back; `delayMs` holds each answer, so that the fetches of
 * one event from different scopes are in flight together.
 */
async function startRecordingProxy(target: string, options: { delayMs?: number } = {}) {
  const requests: { authorization: string | undefined; body: { query: string; variables?: Record<string, any> } }[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', async () => {
      try {
        requests.push({ authorization: req.headers.authorization, body: JSON.parse(text) });
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string' && name !== 'host' && name !== 'content-length') headers[name] = value;
        const response = await fetch(target, { method: 'POST', headers, body: text });
        const body = await response.text();
        if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
        const cacheControl = response.headers.get('cache-control');
        res.writeHead(response.status, {
          'content-type': response.headers.get('content-type') ?? 'application/json',
          ...(cacheControl ? { 'cache-control': cacheControl } : {}),
        });
        res.end(body);
      } catch (error) {
        res.writeHead(502).end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Gateway behaviours, the same in both modes: run once, in the last mode configured
 * (distributed when TEST_POSTGRES_URL and TEST_REDIS_URL are set, else embedded).
 */
const mode = getTestModes().at(-1)!;

describe(`subscriptions: sharing, cross-subgraph selections, per-user limits, keep-alive (${mode.name})`, () => {
  let prepared: PreparedEnv;
  let platform: Platform;
  let url: string;
  let ada: SignedUp;
  let bob: SignedUp;
  const cleanups: (() => Promise<unknown> | unknown)[] = [];

  function routingEnv(overrides: Record<string, string> = {}) {
    const env: Record<string, string> = { ...prepared.env, JWKS_URL: `${platform.services.auth.url}/.well-known/jwks.json`, GATEWAY_PORT: '0' };
    for (const name of ['auth', 'user', 'task', 'notification', 'analytics'] as const) {
      env[`${name.toUpperCase()}_SUBGRAPH_URL`] = `${platform.services[name].url}/graphql`;
    }
    return { ...env, ...overrides };
  }

  async function startGateway(overrides: Record<string, string> = {}): Promise<GatewayHandle> {
    const gateway = await startGatewayService({ config: loadGatewayConfig(routingEnv(overrides)), logger: createLogger('gateway-test', 'silent') });
    cleanups.push(() => gateway.stop());
    return gateway;
  }

  beforeAll(async () => {
    prepared = await preparePlatformEnv(mode);
    platform = await startPlatform({ env: prepared.env });
    url = platform.gatewayUrl;
    ada = await signUp(url, 'Ada');
    bob = await signUp(url, 'Bob');
  }, 180_000);

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await platform?.stop();
    await prepared?.cleanup();
  });

  /** Four clients (three of the first user's, one of the second's) on a gateway whose user subgraph is behind a recording proxy. */
  async function sharingSetup(query: string, [first, second]: [SignedUp, SignedUp], upstreamSubscriptions: number) {
    const proxy = await startRecordingProxy(`${platform.services.user.url}/graphql`, { delayMs: 300 });
    cleanups.push(() => proxy.close());
    const gateway = await startGateway({ USER_SUBGRAPH_URL: proxy.url });
    const gatewayUrl = `${gateway.url}/graphql`;
    const clients = [first, first, first, second].map((user) => wsClient(gatewayUrl, user.accessToken));
    for (const client of clients) cleanups.push(() => client.dispose());
    const streams = clients.map((client) => collect(client.iterate({ query })));
    for (const stream of streams) cleanups.push(() => stream.stop());
    await primeStreams(streams, () => graphqlOk(url, CREATE_TASK, { token: ada.accessToken, variables: { title: 'probe', a: null } }));
    expect(gateway.stats()).toMatchObject({ subscribers: 4, upstreamSubscriptions });
    // The entity fetches that name `user` (who acts only in the event under test) belong to that event.
    const fetchesNaming = (user: SignedUp) => proxy.requests.filter((request) => JSON.stringify(request.body.variables ?? {}).includes(user.userId));
    return { gateway, streams, fetchesNaming };
  }

  it('fetches a public entity answer once per event for every scope (the subgraph says Cache-Control: public)', async () => {
    // `assignee.email` is PRIVATE: each user has their own stream (scope), and the actor's public
    // display name is still fetched once for both.
    const query = `subscription { taskChanged { cursor kind task { title assignee { email } } actor { displayName } } }`;
    const { gateway, streams, fetchesNaming } = await sharingSetup(query, [ada, bob], 2);
    const carol = await signUp(url, 'Carol');
    await graphqlOk(url, CREATE_TASK, { token: carol.accessToken, variables: { title: 'Shared fetch', a: null } });
    const results = await Promise.all(streams.map((stream) => stream.waitForMatch(titleIs('Shared fetch'))));
    for (const result of results) {
      expect(result.errors).toBeUndefined();
      expect(result.data.taskChanged.actor).toEqual({ displayName: 'Carol' });
    }
    // Four clients, two scopes, one public answer (User's display name): one entity fetch.
    const forThisEvent = fetchesNaming(carol);
    expect(forThisEvent).toHaveLength(1);
    expect(forThisEvent[0]!.body.query).toContain('_entities');
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/meridian_gateway_subscription_shared_fetches_total\{subgraph="user"[^}]*\} [1-9]/);
  });

  it('fetches a private entity answer once per event and user scope, each with that user\'s token', async () => {
    // `email` is the viewer's own (PRIVATE): Dora sees hers, Bob must not.
    const dora = await signUp(url, 'Dora');
    const query = `subscription { taskChanged { cursor kind task { title } actor { displayName email } } }`;
    const { streams, fetchesNaming } = await sharingSetup(query, [dora, bob], 2);
    await graphqlOk(url, CREATE_TASK, { token: dora.accessToken, variables: { title: 'Private fetch', a: null } });
    const results = await Promise.all(streams.map((stream) => stream.waitForMatch(titleIs('Private fetch'))));
    for (const result of results.slice(0, 3)) expect(result.data.taskChanged.actor).toEqual({ displayName: 'Dora', email: dora.email });
    expect(results[3]!.data.taskChanged.actor).toEqual({ displayName: 'Dora', email: null });
    // Four clients, two users: two entity fetches, one per scope, with each scope's own token.
    const forThisEvent = fetchesNaming(dora);
    expect(forThisEvent.map((request) => request.authorization).sort()).toEqual([`Bearer ${dora.accessToken}`, `Bearer ${bob.accessToken}`].sort());
    expect(forThisEvent.every((request) => request.body.query.includes('_entities'))).toBe(true);
  });

  it('shares one stream between users with the same roles when the subgraphs declare the selection public, fetching with the longest-lasting token', async () => {
    const proxy = await startRecordingProxy(`${platform.services.user.url}/graphql`);
    cleanups.push(() => proxy.close());
    const gateway = await startGateway({ USER_SUBGRAPH_URL: proxy.url });
    const gatewayUrl = `${gateway.url}/graphql`;
    const erin = await signUp(url, 'Erin');
    // Tokens expire on whole seconds: Fay's must outlast Erin's.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const fay = await signUp(url, 'Fay');
    const gus = await signUp(url, 'Gus');
    const [erinClient, fayClient] = [wsClient(gatewayUrl, erin.accessToken), wsClient(gatewayUrl, fay.accessToken)];
    cleanups.push(() => erinClient.dispose(), () => fayClient.dispose());
    // Every type TASK_CHANGED selects is declared PUBLIC (task and user subgraphs' cache hints).
    const erins = collect(erinClient.iterate({ query: TASK_CHANGED }));
    const fays = collect(fayClient.iterate({ query: TASK_CHANGED }));
    cleanups.push(() => erins.stop(), () => fays.stop());
    await primeStreams([erins, fays], () => graphqlOk(url, CREATE_TASK, { token: ada.accessToken, variables: { title: 'probe', a: null } }));
    expect(gateway.stats()).toMatchObject({ subscribers: 2, upstreamSubscriptions: 1 });

    /** Creates a task whose actor is Gus; the tokens of the entity fetches that event made for Gus. */
    const fetchesFor = async (title: string, streams: typeof erins[]) => {
      const from = proxy.requests.length;
      await graphqlOk(url, CREATE_TASK, { token: gus.accessToken, variables: { title, a: null } });
      for (const stream of streams) expect((await stream.waitForMatch(titleIs(title))).data.taskChanged.actor).toEqual({ displayName: 'Gus' });
      const tokens = new Map([[`Bearer ${erin.accessToken}`, 'Erin'], [`Bearer ${fay.accessToken}`, 'Fay']]);
      const fetches = proxy.requests.slice(from).filter((request) => JSON.stringify(request.body.variables ?? {}).includes(gus.userId));
      return fetches.map((request) => tokens.get(request.authorization ?? '') ?? 'another token');
    };
    // One completion for both users, with the token that lasts longest (Fay's).
    const both = await fetchesFor('Shared by two users', [erins, fays]);
    expect(both).toEqual(['Fay']);
    // Fay leaves: the stream goes on for Erin, and fetches with Erin's token, not the departed one's.
    await fays.stop();
    await eventually(() => expect(gateway.stats()).toMatchObject({ subscribers: 1, upstreamSubscriptions: 1 }));
    const erinsOnly = await fetchesFor('After Fay left', [erins]);
    expect(erinsOnly).toEqual(['Erin']);
  });

  it('completes a selection across three subgraphs (task → user → analytics), authorized per subscriber', async () => {
    const query = `subscription { taskChanged { kind task { title assignee { displayName stats(preset: LAST_7_DAYS) { tasksCreated tasksCompleted } } } } }`;
    const adaClient = wsClient(url, ada.accessToken);
    const bobClient = wsClient(url, bob.accessToken);
    cleanups.push(() => adaClient.dispose(), () => bobClient.dispose());
    const adas = collect(adaClient.iterate({ query }));
    const bobs = collect(bobClient.iterate({ query }));
    cleanups.push(() => adas.stop(), () => bobs.stop());
    await primeStreams([adas, bobs], () => graphqlOk(url, CREATE_TASK, { token: ada.accessToken, variables: { title: 'probe', a: null } }));

    await graphqlOk(url, CREATE_TASK, { token: ada.accessToken, variables: { title: 'Three subgraphs', a: ada.userId } });
    const assigned = (event: any) => event?.data?.taskChanged?.task?.title === 'Three subgraphs' && event.data.taskChanged.kind === 'ASSIGNED';
    const forAda = await adas.waitForMatch(assigned);
    const forBob = await bobs.waitForMatch(assigned);
    // Ada sees her own statistics (analytics subgraph, through the user entity)...
    expect(forAda.errors).toBeUndefined();
    expect(forAda.data.taskChanged.task.assignee).toEqual({ displayName: 'Ada', stats: { tasksCreated: expect.any(Number), tasksCompleted: expect.any(Number) } });
    // ...Bob gets the same event, but not Ada's statistics: what a query would not show him.
    expect(forBob.data.taskChanged.task.assignee).toEqual({ displayName: 'Ada', stats: null });
    expect(JSON.stringify(forBob.errors)).toContain('FORBIDDEN');
  });

  it('limits subscriptions per user across connections', async () => {
    const gateway = await startGateway({ MAX_SUBSCRIPTIONS_PER_USER: '2' });
    const gatewayUrl = `${gateway.url}/graphql`;
    const clients = [wsClient(gatewayUrl, ada.accessToken), wsClient(gatewayUrl, ada.accessToken), wsClient(gatewayUrl, ada.accessToken), wsClient(gatewayUrl, bob.accessToken)];
    for (const client of clients) cleanups.push(() => client.dispose());
    const [first, second] = [collect(clients[0]!.iterate({ query: TASK_CHANGED })), collect(clients[1]!.iterate({ query: TASK_CHANGED }))];
    cleanups.push(() => first.stop(), () => second.stop());
    await eventually(() => expect(gateway.stats().subscribers).toBe(2));
    const third = collect(clients[2]!.iterate({ query: TASK_CHANGED }));
    await third.waitForEnd();
    expect(JSON.stringify(third.failure ?? third.received)).toContain('At most 2 subscriptions per user');
    expect(JSON.stringify(third.failure ?? third.received)).toContain('RATE_LIMITED');
    // Another user is not affected by Ada's count.
    const bobs = collect(clients[3]!.iterate({ query: TASK_CHANGED }));
    cleanups.push(() => bobs.stop());
    await eventually(() => expect(gateway.stats().subscribers).toBe(3));
    expect(bobs.ended).toBe(false);
  });

  it('drops a peer that stops answering keep-alive pings, keeps one that answers, and says 1001 on shutdown', async () => {
    const gateway = await startGateway({ WS_KEEPALIVE_MS: '200' });
    const wsUrl = `${gateway.url.replace(/^http/, 'ws')}/graphql`;
    const open = async (autoPong: boolean) => {
      const socket = new WebSocket(wsUrl, 'graphql-transport-ws', { autoPong });
      cleanups.push(() => socket.terminate());
      const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
      let pings = 0;
      socket.on('ping', () => (pings += 1));
      await new Promise((resolve) => socket.once('open', resolve));
      socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${ada.accessToken}` } }));
      await new Promise((resolve) => socket.once('message', resolve));
      return { socket, closed, pings: () => pings };
    };
    const answering = await open(true);
    const silent = await open(false);
    // The silent peer is terminated (no close frame: 1006); the answering one has had more pings than that took.
    expect(await silent.closed).toBe(1006);
    await eventually(() => expect(answering.pings()).toBeGreaterThanOrEqual(3));
    expect(answering.socket.readyState).toBe(WebSocket.OPEN);
    await gateway.stop();
    expect(await answering.closed).toBe(1001);
  });
});
