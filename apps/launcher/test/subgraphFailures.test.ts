import http from 'node:http';
import { eventually, graphql, graphqlOk, preparePlatformEnv, type PreparedEnv } from '@meridian/testing';
import { loadGatewayConfig, startGatewayService, type CircuitState, type GatewayHandle } from '@meridian/gateway';
import { loadAnalyticsConfig, startAnalyticsService } from '@meridian/analytics-subgraph';
import { createLogger } from '@meridian/service-kit';
import { startPlatform, type Platform } from '../src/platform';
import { startFaultProxy, type FaultProxy } from './faultProxy';
import { signUp, type SignedUp } from './subscriptionHelpers';

const WITH_STATS = '{ me { displayName stats { tasksCreated } } }';
const WITHOUT_STATS = '{ me { displayName } }';
const TASKS = '{ tasks(first: 5) { edges { node { id } } } }';
const CREATE_TASK = 'mutation { createTask(input: { title: "During an outage" }) { id } }';

/**
 * POST on a connection of its own: the load below is about the gateway and its subgraphs, so no
 * client keep-alive race (a busy machine can stall an event loop past a keep-alive timeout) blurs it.
 */
function postOnFreshConnection(url: string, query: string, token: string): Promise<{ status: number; data?: any; errors?: any[] }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ query });
    const request = http.request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(body) } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        try {
          resolve({ status: response.statusCode ?? 0, ...(JSON.parse(text) as object) });
        } catch (error) {
          reject(error);
        }
      });
    });
    request.on('error', reject);
    request.end(body);
  });
}

/**
 * The gateway's subgraph client against real subgraphs: some routed through a proxy that can
 * hang or cut connections, one really stopped in the middle of a load.
 */
jest.setTimeout(120_000);

describe('gateway when a subgraph is down or slow (embedded)', () => {
  let prepared: PreparedEnv;
  let platform: Platform;
  let ada: SignedUp;
  const gateways: GatewayHandle[] = [];
  const proxies: FaultProxy[] = [];
  /** Services a test started itself: the platform's own stop() does not know them. */
  const extraServices: { stop(): Promise<void> }[] = [];

  function routingEnv(overrides: Record<string, string> = {}) {
    const env: Record<string, string> = { ...prepared.env, JWKS_URL: `${platform.services.auth.url}/.well-known/jwks.json`, GATEWAY_PORT: '0', SUPERGRAPH_WATCH: 'false' };
    for (const name of ['auth', 'user', 'task', 'notification', 'analytics'] as const) {
      env[`${name.toUpperCase()}_SUBGRAPH_URL`] = `${platform.services[name].url}/graphql`;
    }
    return { ...env, ...overrides };
  }

  /** A gateway whose `subgraph` is reached through a fault proxy. */
  async function gatewayWithProxy(subgraph: 'analytics' | 'task', env: Record<string, string> = {}, circuit: CircuitState[] = []) {
    const proxy = await startFaultProxy(`${platform.services[subgraph].url}/graphql`);
    proxies.push(proxy);
    const gateway = await startGatewayService({
      config: loadGatewayConfig(routingEnv({ [`${subgraph.toUpperCase()}_SUBGRAPH_URL`]: proxy.url, ...env })),
      logger: createLogger('gateway-test', 'silent'),
      subgraphHooks: { onCircuit: (name, state) => name === subgraph && circuit.push(state) },
    });
    gateways.push(gateway);
    return { proxy, gateway, url: `${gateway.url}/graphql` };
  }

  beforeAll(async () => {
    prepared = await preparePlatformEnv({ name: 'embedded' });
    // The mid-load test's workers loop as fast as the gateway answers: this file tests failures, not
    // the per-user rate budget (protection tests cover that), so the budget is out of their way.
    // CIRCUIT_RESET_TIMEOUT_MS: after the mid-load test restarts analytics, full answers resume
    // once the circuit half-opens; the 5 s default would only make that test wait.
    platform = await startPlatform({ env: { ...prepared.env, RATE_LIMIT_POINTS: '1000000', CIRCUIT_RESET_TIMEOUT_MS: '1000' } });
    ada = await signUp(platform.gatewayUrl, 'Ada');
  }, 240_000);

  afterAll(async () => {
    for (const gateway of gateways) await gateway.stop();
    for (const proxy of proxies) await proxy.close();
    for (const service of extraServices) await service.stop();
    await platform?.stop();
    await prepared?.cleanup();
  });

  it('answers partial data plus an error naming the path and the service when a subgraph is down; other queries are unaffected', async () => {
    const { proxy, url } = await gatewayWithProxy('analytics', { CIRCUIT_VOLUME_THRESHOLD: '1000' });
    expect((await graphqlOk(url, WITH_STATS, { token: ada.accessToken })).me.stats).toEqual({ tasksCreated: expect.any(Number) });
    proxy.setMode('reset');
    const partial = await graphql(url, WITH_STATS, { token: ada.accessToken });
    expect(partial.status).toBe(200);
    expect(partial.data).toEqual({ me: { displayName: 'Ada', stats: null } });
    expect(partial.errors).toEqual([
      expect.objectContaining({
        message: expect.stringContaining('analytics'),
        path: ['me', 'stats'],
        extensions: expect.objectContaining({ code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'analytics', reason: 'unreachable' }),
      }),
    ]);
    // A query that does not touch the analytics subgraph does not notice.
    const untouched = await graphql(url, WITHOUT_STATS, { token: ada.accessToken });
    expect(untouched).toEqual({ status: 200, data: { me: { displayName: 'Ada' } } });
  });

  it('retries a failed query with backoff, never a mutation', async () => {
    const { proxy, url } = await gatewayWithProxy('task', { SUBGRAPH_RETRIES: '2', CIRCUIT_VOLUME_THRESHOLD: '1000' });
    // One dropped connection is absorbed by a retry: the client sees nothing.
    proxy.setMode('reset-once');
    const before = proxy.requests();
    expect((await graphql(url, TASKS, { token: ada.accessToken })).errors).toBeUndefined();
    expect(proxy.requests() - before).toBe(2);

    proxy.setMode('reset');
    const queried = proxy.requests();
    const query = await graphql(url, TASKS, { token: ada.accessToken });
    expect(query.errors?.[0]).toMatchObject({ path: ['tasks'], extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'task' } });
    expect(proxy.requests() - queried).toBe(3); // first try + 2 retries

    const mutated = proxy.requests();
    const mutation = await graphql(url, CREATE_TASK, { token: ada.accessToken });
    expect(mutation.errors?.[0]).toMatchObject({ path: ['createTask'], extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'task' } });
    expect(proxy.requests() - mutated).toBe(1); // a mutation may have been applied: never sent twice
  });

  it('answers a slow subgraph with SUBGRAPH_TIMEOUT and the rest of the data instead of hanging', async () => {
    // 1.5 s: ample for the user subgraph's part of the answer, short for the hanging analytics.
    const { proxy, url } = await gatewayWithProxy('analytics', { SUBGRAPH_TIMEOUT_MS: '1500', CIRCUIT_VOLUME_THRESHOLD: '1000' });
    proxy.setMode('hang');
    const result = await graphql(url, WITH_STATS, { token: ada.accessToken });
    expect(result.data).toEqual({ me: { displayName: 'Ada', stats: null } });
    expect(result.errors?.[0]).toMatchObject({
      path: ['me', 'stats'],
      extensions: { code: 'SUBGRAPH_TIMEOUT', serviceName: 'analytics', reason: 'timeout' },
    });
    // Timeouts are not retried (the budget is spent): the subgraph saw one request.
    expect(proxy.requests()).toBe(1);
    proxy.setMode('forward');
  });

  it('opens the circuit after repeated failures, fails fast while open, half-opens and recovers', async () => {
    const transitions: CircuitState[] = [];
    const { proxy, gateway, url } = await gatewayWithProxy(
      'analytics',
      // 3 s open: ample for the one fail-fast request below (even on a loaded machine), short enough not to idle the test.
      { SUBGRAPH_RETRIES: '0', CIRCUIT_VOLUME_THRESHOLD: '3', CIRCUIT_RESET_TIMEOUT_MS: '3000' },
      transitions,
    );
    const circuit = () => gateway.subgraphs().find((source) => source.name === 'analytics')?.circuitState;
    proxy.setMode('reset');
    for (let i = 0; i < 4 && circuit() !== 'open'; i += 1) await graphql(url, WITH_STATS, { token: ada.accessToken });
    expect(circuit()).toBe('open');

    // While open, the subgraph is not called at all and the answer says why.
    const reached = proxy.requests();
    const fast = await graphql(url, WITH_STATS, { token: ada.accessToken });
    expect(fast.data).toEqual({ me: { displayName: 'Ada', stats: null } });
    expect(fast.errors?.[0]).toMatchObject({ path: ['me', 'stats'], extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'analytics', reason: 'circuit-open' } });
    expect(proxy.requests()).toBe(reached);

    // The subgraph is back: after the reset timeout one trial request closes the circuit.
    proxy.setMode('forward');
    const recovered = await eventually(async () => {
      const result = await graphql(url, WITH_STATS, { token: ada.accessToken });
      if (result.errors) throw new Error(JSON.stringify(result.errors));
      return result;
    }, 60_000);
    expect(recovered.data?.me.stats).toEqual({ tasksCreated: expect.any(Number) });
    expect(circuit()).toBe('closed');
    expect(transitions).toEqual(['open', 'half-open', 'closed']);
  });

  it('reports a subgraph that cannot be reached in /readyz (503, naming it), and ready again once it is back', async () => {
    const { proxy, gateway } = await gatewayWithProxy('analytics');
    const ready = await fetch(`${gateway.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { supergraph: 'ok', 'subgraph:analytics': 'ok', 'subgraph:user': 'ok' } });
    proxy.setMode('reset');
    const notReady = await fetch(`${gateway.url}/readyz`);
    expect(notReady.status).toBe(503);
    const body = (await notReady.json()) as { status: string; reason: string; checks: Record<string, string> };
    expect(body.status).toBe('unavailable');
    expect(body.reason).toMatch(/^subgraph:analytics: /);
    expect(body.checks['subgraph:user']).toBe('ok');
    proxy.setMode('forward');
    expect((await fetch(`${gateway.url}/readyz`)).status).toBe(200);
  });

  // Last: it really stops the platform's analytics subgraph (and starts a new one).
  it('keeps answering through a subgraph killed mid-load: partial data for what needs it, full data for the rest', async () => {
    const url = platform.gatewayUrl;
    const outcomes = { full: 0, partial: 0, untouched: 0 };
    const unexpected: unknown[] = [];
    let running = true;
    const worker = async (query: string) => {
      while (running) {
        const result = await postOnFreshConnection(url, query, ada.accessToken).catch(
          (error: Error & { code?: string; cause?: { code?: string } }) => ({ status: 0, error: error.code ?? error.cause?.code ?? error.message }) as never,
        );
        if (query === WITHOUT_STATS) {
          if (result.status === 200 && !result.errors && result.data?.me?.displayName === 'Ada') outcomes.untouched += 1;
          else unexpected.push(result);
        } else if (result.status === 200 && !result.errors && result.data?.me?.stats) {
          outcomes.full += 1;
        } else if (
          result.status === 200 &&
          result.data?.me?.displayName === 'Ada' &&
          result.data.me.stats === null &&
          result.errors?.length === 1 &&
          result.errors[0]?.extensions?.serviceName === 'analytics' &&
          ['SUBGRAPH_UNAVAILABLE', 'SUBGRAPH_TIMEOUT'].includes(result.errors[0]?.extensions?.code) &&
          JSON.stringify(result.errors[0]?.path) === '["me","stats"]'
        ) {
          outcomes.partial += 1;
        } else {
          unexpected.push(result);
        }
      }
    };
    const workers = [WITH_STATS, WITH_STATS, WITH_STATS, WITHOUT_STATS, WITHOUT_STATS].map(worker);
    try {
      await eventually(() => expect(outcomes.full).toBeGreaterThan(5), 60_000);
      const analyticsUrl = new URL(platform.services.analytics.url);
      await platform.services.analytics.stop();
      const partialAfterKill = outcomes.partial;
      await eventually(() => expect(outcomes.partial).toBeGreaterThan(partialAfterKill + 5), 60_000);
      const untouchedDuringOutage = outcomes.untouched;
      await eventually(() => expect(outcomes.untouched).toBeGreaterThan(untouchedDuringOutage + 5), 60_000);

      // Back on the same port: full answers resume (the circuit half-opens and closes).
      const env = { ...prepared.env, ANALYTICS_PORT: analyticsUrl.port, JWKS_URL: `${platform.services.auth.url}/.well-known/jwks.json` };
      const analytics = await startAnalyticsService({ config: loadAnalyticsConfig(env), bus: platform.bus, logger: createLogger('analytics', 'silent') });
      extraServices.push(analytics);
      const fullBefore = outcomes.full;
      await eventually(() => expect(outcomes.full).toBeGreaterThan(fullBefore + 5), 60_000);
    } finally {
      running = false;
      await Promise.all(workers);
    }
    expect(unexpected).toEqual([]);
  }, 300_000);
});
