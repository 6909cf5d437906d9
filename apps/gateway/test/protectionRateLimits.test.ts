import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freeStablePort, PrivateRedis } from '@meridian/testing';
import {
  codesOf,
  post,
  startProtectedGateway,
  startSubgraphRecorders,
  startTestTokenIssuer,
  wsClient,
  wsRun,
  type Recorders,
  type StartedGateway,
} from './protectionHarness';
import type { TestTokenIssuer } from '@meridian/testing';

const LOG_IN = 'mutation { logIn(input: { email: "ada@example.com", password: "wrong" }) { __typename } }';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('rate limits (in memory, one gateway)', () => {
  let issuer: TestTokenIssuer;
  let recorders: Recorders;
  let started: StartedGateway;

  beforeAll(async () => {
    issuer = await startTestTokenIssuer();
    recorders = await startSubgraphRecorders();
    started = await startProtectedGateway({
      recorders,
      issuer,
      env: { RATE_LIMIT_POINTS: '4', RATE_LIMIT_WINDOW_SECONDS: '3600', AUTH_RATE_LIMIT_POINTS: '2', AUTH_RATE_LIMIT_WINDOW_SECONDS: '3600' },
    });
  });
  afterAll(async () => {
    await started?.gateway.close();
    await recorders?.close();
    await issuer?.close();
  });

  it('gives each signed-in user a budget of their own, and answers 429 RATE_LIMITED with Retry-After', async () => {
    const token = issuer.sign({ userId: `user-${randomUUID()}` });
    const other = issuer.sign({ userId: `user-${randomUUID()}` });
    const auth = { authorization: `Bearer ${token}` };
    for (let index = 0; index < 4; index += 1) {
      const ok = await post(started.url, { query: '{ __typename }' }, auth);
      expect(ok.status).toBe(200);
    }
    const refused = await post(started.url, { query: '{ __typename }' }, auth);
    expect(refused.status).toBe(429);
    expect(codesOf(refused.body.errors)).toEqual(['RATE_LIMITED']);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(refused.body.errors?.[0]?.extensions?.retryAfter).toBe(retryAfter);
    // Another user (and the anonymous address) still have their budgets.
    expect((await post(started.url, { query: '{ __typename }' }, { authorization: `Bearer ${other}` })).status).toBe(200);
  });

  it('counts WebSocket operations and subscription starts against the same per-user budget', async () => {
    const token = issuer.sign({ userId: `user-${randomUUID()}` });
    for (let index = 0; index < 3; index += 1) {
      expect((await post(started.url, { query: '{ __typename }' }, { authorization: `Bearer ${token}` })).status).toBe(200);
    }
    const client = wsClient(started.wsUrl, token);
    const before = recorders.total();
    const started1 = await wsRun(client, { query: '{ __typename }' });
    expect(started1.result).toEqual({ data: { __typename: 'Query' } });
    const refused = await wsRun(client, { query: 'subscription { taskChanged { cursor } }' });
    expect(codesOf(refused.errors)).toEqual(['RATE_LIMITED']);
    expect(refused.errors?.[0]?.extensions?.retryAfter).toEqual(expect.any(Number));
    expect(recorders.total()).toBe(before);
    await client.dispose();
  });

  it('gives auth mutations a stricter budget, counting every aliased attempt', async () => {
    // Anonymous: charged to the address; fresh gateway budget per address is 4 general / 2 auth.
    const fresh = await startProtectedGateway({
      recorders,
      issuer,
      env: { AUTH_RATE_LIMIT_POINTS: '2', AUTH_RATE_LIMIT_WINDOW_SECONDS: '3600' },
    });
    try {
      const before = recorders.count('auth');
      expect((await post(fresh.url, { query: LOG_IN })).status).toBe(200);
      // The same attempt over WebSocket draws on the same budget (2): it still reaches the auth subgraph.
      const client = wsClient(fresh.wsUrl);
      await wsRun(client, { query: LOG_IN });
      await client.dispose();
      expect(recorders.count('auth')).toBe(before + 2);
      // Two more attempts in one request (aliases) each count: refused whole, nothing reaches auth.
      const aliased = await post(fresh.url, {
        query: 'mutation { a: logIn(input: { email: "a@example.com", password: "x" }) { __typename } b: logIn(input: { email: "b@example.com", password: "x" }) { __typename } }',
      });
      expect(aliased.status).toBe(429);
      expect(codesOf(aliased.body.errors)).toEqual(['RATE_LIMITED']);
      const second = wsClient(fresh.wsUrl);
      const refusedOverWs = await wsRun(second, { query: LOG_IN });
      await second.dispose();
      expect(codesOf(refusedOverWs.errors)).toEqual(['RATE_LIMITED']);
      expect(recorders.count('auth')).toBe(before + 2);
      // Other operations are not held back by the auth budget.
      expect((await post(fresh.url, { query: '{ __typename }' })).status).toBe(200);
    } finally {
      await fresh.gateway.close();
    }
  });
});

const redisUrl = process.env.TEST_REDIS_URL;
(redisUrl ? describe : describe.skip)('two gateway replicas sharing Redis', () => {
  let issuer: TestTokenIssuer;
  let recorders: Recorders;
  let first: StartedGateway;
  let second: StartedGateway;

  beforeAll(async () => {
    issuer = await startTestTokenIssuer();
    recorders = await startSubgraphRecorders();
    const env = {
      REDIS_URL: redisUrl as string,
      GATEWAY_REDIS_PREFIX: `test:${randomUUID()}:gateway:`,
      RATE_LIMIT_POINTS: '4',
      RATE_LIMIT_WINDOW_SECONDS: '3600',
      AUTH_RATE_LIMIT_POINTS: '2',
      AUTH_RATE_LIMIT_WINDOW_SECONDS: '3600',
    };
    first = await startProtectedGateway({ recorders, issuer, env });
    second = await startProtectedGateway({ recorders, issuer, env });
  });
  afterAll(async () => {
    await first?.gateway.close();
    await second?.gateway.close();
    await recorders?.close();
    await issuer?.close();
  });

  it('share one budget per user: requests on either replica count', async () => {
    const auth = { authorization: `Bearer ${issuer.sign({ userId: `user-${randomUUID()}` })}` };
    expect((await post(first.url, { query: '{ __typename }' }, auth)).status).toBe(200);
    expect((await post(second.url, { query: '{ __typename }' }, auth)).status).toBe(200);
    expect((await post(first.url, { query: '{ __typename }' }, auth)).status).toBe(200);
    expect((await post(second.url, { query: '{ __typename }' }, auth)).status).toBe(200);
    const refusedHere = await post(first.url, { query: '{ __typename }' }, auth);
    const refusedThere = await post(second.url, { query: '{ __typename }' }, auth);
    expect([refusedHere.status, refusedThere.status]).toEqual([429, 429]);
    expect(refusedThere.headers.get('retry-after')).toMatch(/^\d+$/);
  });

  it('share the auth budget across replicas and transports', async () => {
    const before = recorders.count('auth');
    expect((await post(first.url, { query: LOG_IN })).status).toBe(200);
    const client = wsClient(second.wsUrl);
    await wsRun(client, { query: LOG_IN });
    await client.dispose();
    expect(recorders.count('auth')).toBe(before + 2);
    const refused = await post(first.url, { query: LOG_IN });
    expect(refused.status).toBe(429);
    expect(codesOf(refused.body.errors)).toEqual(['RATE_LIMITED']);
    expect(recorders.count('auth')).toBe(before + 2);
  });

  it('share automatic persisted queries: registered on one replica, used by hash on the other', async () => {
    const query = `query Shared${randomUUID().replace(/-/g, '')} { __typename }`;
    const extensions = { persistedQuery: { version: 1, sha256Hash: sha256(query) } };
    // A user of its own: the address's shared budget is spent by the tests above.
    const auth = { authorization: `Bearer ${issuer.sign({ userId: `user-${randomUUID()}` })}` };
    const unknown = await post(second.url, { extensions }, auth);
    expect(codesOf(unknown.body.errors)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    const registered = await post(first.url, { query, extensions }, auth);
    expect(registered.body).toEqual({ data: { __typename: 'Query' } });
    const byHash = await post(second.url, { extensions }, auth);
    expect(byHash.body).toEqual({ data: { __typename: 'Query' } });
  });
});

describe('when Redis goes away', () => {
  let issuer: TestTokenIssuer;
  let recorders: Recorders;
  let redis: PrivateRedis;
  let dir: string;
  let started: StartedGateway;

  beforeAll(async () => {
    issuer = await startTestTokenIssuer();
    recorders = await startSubgraphRecorders();
    dir = mkdtempSync(path.join(os.tmpdir(), 'gateway-redis-'));
    redis = new PrivateRedis(await freeStablePort(), dir);
    await redis.start();
    started = await startProtectedGateway({
      recorders,
      issuer,
      env: { REDIS_URL: redis.url, RATE_LIMIT_POINTS: '3', RATE_LIMIT_WINDOW_SECONDS: '3600' },
    });
  });
  afterAll(async () => {
    await started?.gateway.close();
    await redis?.stop();
    await recorders?.close();
    await issuer?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps limiting on each replica\'s own budget and keeps serving persisted queries', async () => {
    const query = 'query KeptLocally { __typename }';
    const extensions = { persistedQuery: { version: 1, sha256Hash: sha256(query) } };
    const auth = { authorization: `Bearer ${issuer.sign({ userId: `user-${randomUUID()}` })}` };
    expect((await post(started.url, { query, extensions }, auth)).body).toEqual({ data: { __typename: 'Query' } });
    await redis.kill();
    // Neither failed nor unlimited: the in-memory fallback takes over.
    const statuses: number[] = [];
    for (let index = 0; index < 4; index += 1) statuses.push((await post(started.url, { extensions }, auth)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});
