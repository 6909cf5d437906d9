import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findRepoRoot } from '@meridian/composition';
import { captureLogs, eventually, graphql, graphqlOk, preparePlatformEnv, type PreparedEnv } from '@meridian/testing';
import { loadGatewayConfig, startGatewayService, type GatewayHandle } from '@meridian/gateway';
import { startPlatform, type Platform } from '../src/platform';
import { collect, primeStreams, signUp, TASK_CHANGED, titleIs, wsClient, type SignedUp } from './subscriptionHelpers';

jest.setTimeout(120_000);

const CREATE_TASK = `mutation($title: String!) { createTask(input: { title: $title }) { id } }`;
const STATS_UPDATED = 'subscription { statsUpdated { from } }';

/** The composed supergraph without one field (and its description): a valid, different supergraph. */
function withoutField(sdl: string, field: string): string {
  const pattern = new RegExp(`\\n\\s*"""[^"]*"""\\s*\\n\\s*${field}\\([^\\n]*\\n`);
  if (!pattern.test(sdl)) throw new Error(`field ${field} not found in the supergraph`);
  return sdl.replace(pattern, '\n');
}

describe('supergraph hot reload (embedded)', () => {
  let prepared: PreparedEnv;
  let platform: Platform;
  let gateway: GatewayHandle;
  let url: string;
  let ada: SignedUp;
  let dir: string;
  let supergraphFile: string;
  let original: string;
  const logs = captureLogs();

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'supergraph-reload-'));
    supergraphFile = path.join(dir, 'supergraph.graphql');
    original = await readFile(path.join(findRepoRoot(__dirname), 'supergraph.graphql'), 'utf8');
    await writeFile(supergraphFile, original);
    prepared = await preparePlatformEnv({ name: 'embedded' });
    platform = await startPlatform({ env: prepared.env });
    const env: Record<string, string> = { ...prepared.env, JWKS_URL: `${platform.services.auth.url}/.well-known/jwks.json`, GATEWAY_PORT: '0', SUPERGRAPH_PATH: supergraphFile };
    for (const name of ['auth', 'user', 'task', 'notification', 'analytics'] as const) {
      env[`${name.toUpperCase()}_SUBGRAPH_URL`] = `${platform.services[name].url}/graphql`;
    }
    gateway = await startGatewayService({ config: loadGatewayConfig(env), logger: logs.logger });
    url = `${gateway.url}/graphql`;
    ada = await signUp(url, 'Ada');
  }, 240_000);

  afterAll(async () => {
    await gateway?.stop();
    await platform?.stop();
    await prepared?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('rejects an invalid supergraph with a logged error and keeps serving the running one, subscriptions included', async () => {
    const client = wsClient(url, ada.accessToken);
    const stream = collect(client.iterate({ query: TASK_CHANGED }));
    await primeStreams([stream], () => graphqlOk(url, CREATE_TASK, { token: ada.accessToken, variables: { title: 'probe' } }), 60_000);

    await writeFile(supergraphFile, 'type Query {');
    await eventually(() => expect(logs.entries().some((entry) => entry.msg === 'new supergraph rejected; the running one is kept')).toBe(true));
    // A supergraph that parses but is not one (no join directives) is refused as well.
    await writeFile(supergraphFile, 'type Query { hello: String }');
    const refused = await gateway.reloadSupergraph();
    expect(refused.status).toBe('rejected');

    expect((await graphqlOk(url, '{ dashboardStats { from } }', { token: ada.accessToken })).dashboardStats).toEqual({ from: expect.any(String) });
    await graphqlOk(url, CREATE_TASK, { token: ada.accessToken, variables: { title: 'Still live' } });
    expect((await stream.waitForMatch(titleIs('Still live'))).data.taskChanged.kind).toBe('CREATED');
    expect(stream.ended).toBe(false);
    await stream.stop();
    await client.dispose();
  });

  it('switches to a changed supergraph: subscriptions in flight end with SUPERGRAPH_RELOADED, new ones and queries use the new schema', async () => {
    const client = wsClient(url, ada.accessToken);
    const stream = collect(client.iterate({ query: TASK_CHANGED }));
    await primeStreams([stream], () => graphqlOk(url, CREATE_TASK, { token: ada.accessToken, variables: { title: 'probe' } }), 60_000);

    // The file watcher picks the new file up: no call to reloadSupergraph here.
    await writeFile(supergraphFile, withoutField(withoutField(original, 'dashboardStats'), 'statsUpdated'));
    await stream.waitForEnd(20_000);
    const last = stream.received.at(-1);
    expect(last?.errors?.[0]?.extensions?.code).toBe('SUPERGRAPH_RELOADED');
    expect(logs.entries().some((entry) => entry.msg === 'supergraph reloaded')).toBe(true);

    // Queries are validated against the new supergraph...
    const removed = await graphql(url, '{ dashboardStats { from } }', { token: ada.accessToken });
    expect(removed.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    // ...and so are subscriptions (the subscription planner was rebuilt from it).
    const gone = collect(client.iterate({ query: STATS_UPDATED }));
    await gone.waitForEnd();
    expect(JSON.stringify(gone.failure ?? gone.received)).toContain('statsUpdated');

    const again = collect(client.iterate({ query: TASK_CHANGED }));
    await primeStreams([again], () => graphqlOk(url, CREATE_TASK, { token: ada.accessToken, variables: { title: 'probe' } }), 60_000);
    await graphqlOk(url, CREATE_TASK, { token: ada.accessToken, variables: { title: 'On the new supergraph' } });
    expect((await again.waitForMatch(titleIs('On the new supergraph'))).data.taskChanged.task.title).toBe('On the new supergraph');
    await again.stop();

    // And back: the original supergraph is accepted again.
    await writeFile(supergraphFile, original);
    await eventually(async () => expect((await graphql(url, '{ dashboardStats { from } }', { token: ada.accessToken })).errors).toBeUndefined());
    await client.dispose();
  });
});
