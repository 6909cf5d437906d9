import WebSocket from 'ws';
import { freePort, graphql, preparePlatformEnv, type PreparedEnv } from '@meridian/testing';
import { startPlatform, type Platform } from '../src/platform';
import { startProcess, type RunningProcess } from '../src/processes';
import { startFaultProxy, type FaultProxy } from './faultProxy';
import { signUp, type SignedUp } from './subscriptionHelpers';

jest.setTimeout(180_000);

const FAST = '{ me { displayName } }';
// Goes through a proxy that holds every analytics fetch for a while: these requests are surely
// in flight when the signal arrives.
const SLOW = '{ me { displayName stats { tasksCreated } } }';
const SHUTDOWN_DELAY_MS = 2_000;

interface Outcome {
  query: string;
  startedAt: number;
  endedAt: number;
  status?: number;
  ok?: boolean;
  error?: string;
}

/**
 * SIGTERM to a gateway process (as an orchestrator sends it) while clients keep it busy: every
 * request it accepted is answered in full, new connections are refused only once it stopped
 * listening, WebSockets close with 1001, and the process exits 0 within its bound.
 */
describe('gateway process on SIGTERM during load', () => {
  let prepared: PreparedEnv;
  let platform: Platform;
  let proxy: FaultProxy;
  let gateway: RunningProcess;
  let url: string;
  let ada: SignedUp;

  beforeAll(async () => {
    prepared = await preparePlatformEnv({ name: 'embedded' });
    platform = await startPlatform({ env: prepared.env });
    proxy = await startFaultProxy(`${platform.services.analytics.url}/graphql`);
    const port = await freePort();
    const env: Record<string, string | undefined> = {
      ...process.env,
      ...prepared.env,
      LOG_LEVEL: 'warn',
      GATEWAY_PORT: String(port),
      JWKS_URL: `${platform.services.auth.url}/.well-known/jwks.json`,
      SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS),
      SHUTDOWN_TIMEOUT_MS: '20000',
      // The load clients loop as fast as the gateway answers; this file tests draining, not the
      // per-user rate budget (the protection tests do).
      RATE_LIMIT_POINTS: '1000000',
    };
    for (const name of ['auth', 'user', 'task', 'notification'] as const) {
      env[`${name.toUpperCase()}_SUBGRAPH_URL`] = `${platform.services[name].url}/graphql`;
    }
    env.ANALYTICS_SUBGRAPH_URL = proxy.url;
    gateway = await startProcess({ name: 'gateway', entry: 'apps/gateway/src/main.ts', env, healthUrl: `http://127.0.0.1:${port}/healthz` }, 150_000);
    url = `http://127.0.0.1:${port}/graphql`;
    ada = await signUp(url, 'Ada');
  }, 300_000);

  afterAll(async () => {
    await gateway?.stop();
    await proxy?.close();
    await platform?.stop();
    await prepared?.cleanup();
  });

  it('answers every in-flight request, refuses only new connections, closes WebSockets with 1001 and exits 0', async () => {
    proxy.setMode('delay', 1_500);
    const outcomes: Outcome[] = [];
    let refused = false;
    const worker = async (query: string) => {
      while (!refused) {
        const outcome: Outcome = { query, startedAt: Date.now(), endedAt: 0 };
        try {
          const result = await graphql(url, query, { token: ada.accessToken });
          outcome.status = result.status;
          outcome.ok = result.status === 200 && !result.errors && result.data?.me?.displayName === 'Ada' && (query === FAST || result.data.me.stats !== null);
        } catch (error) {
          const cause = (error as { cause?: { code?: string } }).cause;
          outcome.error = cause?.code ?? (error as Error).message;
          // The listening socket is closed: this request was never accepted. Stop this client.
          if (cause?.code === 'ECONNREFUSED') refused = true;
        }
        outcome.endedAt = Date.now();
        outcomes.push(outcome);
        if (outcome.error && outcome.error !== 'ECONNREFUSED') break;
      }
    };
    const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${ada.accessToken}` } }));

    const workers = [FAST, FAST, FAST, FAST, SLOW, SLOW, SLOW].map(worker);
    // Load first: some answers of both kinds, so the signal lands in the middle of it.
    while (outcomes.filter((o) => o.ok && o.query === SLOW).length < 3) await new Promise((resolve) => setTimeout(resolve, 50));
    const signalledAt = Date.now();
    gateway.child.kill('SIGTERM');

    // Not ready at once (load balancers stop sending), while it still serves.
    const readiness = await fetch(url.replace('/graphql', '/readyz'));
    expect(readiness.status).toBe(503);
    expect(await readiness.json()).toMatchObject({ status: 'unavailable', reason: expect.stringContaining('shutting down') });

    const exit = await gateway.exited;
    await Promise.all(workers);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(await closed).toBe(1001);

    // Once the delay is over the listening socket closes; a connection the kernel had completed but
    // the process had not accepted yet is reset by the kernel then (TCP's listen backlog): that
    // request never reached the gateway, like a refused one. Any other reset is a lost request.
    const listenerClosedAt = signalledAt + SHUTDOWN_DELAY_MS;
    const neverAccepted = (o: Outcome) => o.error === 'ECONNREFUSED' || (o.error === 'ECONNRESET' && o.startedAt >= listenerClosedAt);
    const accepted = outcomes.filter((o) => !neverAccepted(o));
    const inFlightAtSignal = accepted.filter((o) => o.startedAt < signalledAt && o.endedAt > signalledAt);
    expect(inFlightAtSignal.length).toBeGreaterThan(0);
    // Every request the gateway accepted got its full answer: nothing reset, nothing partial.
    expect(accepted.filter((o) => !o.ok)).toEqual([]);
    // Refusals only once it stopped listening, after the signal.
    expect(outcomes.filter((o) => o.error === 'ECONNREFUSED').every((o) => o.startedAt > signalledAt)).toBe(true);
    expect(outcomes.filter((o) => o.ok && o.endedAt > signalledAt).length).toBeGreaterThan(0);
  });
});
