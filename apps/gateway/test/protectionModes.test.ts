import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const persisted = (query: string) => ({ persistedQuery: { version: 1, sha256Hash: sha256(query) } });
const TYPO = '{ mee { id } }';

let issuer: TestTokenIssuer;
let recorders: Recorders;
beforeAll(async () => {
  issuer = await startTestTokenIssuer();
  recorders = await startSubgraphRecorders();
});
afterAll(async () => {
  await recorders?.close();
  await issuer?.close();
});

describe('production mode (NODE_ENV=production)', () => {
  let started: StartedGateway;
  beforeAll(async () => {
    started = await startProtectedGateway({ recorders, issuer, env: { NODE_ENV: 'production', CORS_ORIGINS: 'https://app.example.com' } });
  });
  afterAll(() => started?.gateway.close());

  it('refuses introspection over HTTP and WebSocket', async () => {
    const overHttp = await post(started.url, { query: '{ __schema { queryType { name } } }' });
    expect(overHttp.body.errors?.[0]?.message).toMatch(/introspection/i);
    expect(overHttp.body.data).toBeUndefined();
    const client = wsClient(started.wsUrl);
    const overWs = await wsRun(client, { query: '{ __schema { queryType { name } } }' });
    expect(JSON.stringify(overWs)).toMatch(/introspection/i);
    expect(JSON.stringify(overWs)).not.toContain('"queryType":{');
    await client.dispose();
  });

  it('masks field suggestions ("Did you mean ...") over HTTP, SSE and WebSocket', async () => {
    const overHttp = await post(started.url, { query: TYPO });
    expect(codesOf(overHttp.body.errors)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(overHttp.body.errors?.[0]?.message).toContain('Cannot query field "mee"');
    expect(JSON.stringify(overHttp.body)).not.toMatch(/did you mean/i);
    const overSse = await post(started.url, { query: 'subscription { taskChangd { cursor } }' }, { accept: 'text/event-stream' });
    expect(overSse.status).toBe(400);
    expect(JSON.stringify(overSse.body)).not.toMatch(/did you mean/i);
    const client = wsClient(started.wsUrl);
    const overWs = await wsRun(client, { query: TYPO });
    expect(codesOf(overWs.errors)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(JSON.stringify(overWs)).not.toMatch(/did you mean/i);
    await client.dispose();
  });

  it('never sends stack traces', async () => {
    // A subgraph failure (the recorder answers with an error) and a malformed request.
    const failing = await post(started.url, { query: '{ users(first: 1) { edges { node { id } } } }' });
    const malformed = await post(started.url, { query: '{ users(' });
    for (const body of [failing.body, malformed.body]) {
      expect(body.errors?.length).toBeGreaterThan(0);
      expect(JSON.stringify(body)).not.toMatch(/stacktrace|\bat .+\.(js|ts):\d+/);
    }
  });

  it('refuses HTTP batches (batching is off unless configured)', async () => {
    const response = await post(started.url, [{ query: '{ __typename }' }, { query: '{ __typename }' }]);
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body)).toMatch(/batch/i);
  });

  it('prevents CSRF: a simple request (no JSON content type, no preflight header) is refused', async () => {
    const get = await fetch(`${started.url}?query=${encodeURIComponent('{ __typename }')}`);
    expect(get.status).toBe(400);
    const form = await fetch(started.url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(form.status).toBe(400);
    const allowed = await fetch(`${started.url}?query=${encodeURIComponent('{ __typename }')}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(await allowed.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('allows CORS only for the configured origins', async () => {
    const preflight = (origin: string) =>
      fetch(started.url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    const allowed = await preflight('https://app.example.com');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const refused = await preflight('https://evil.example.net');
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('sends security headers (helmet) with a strict content security policy', async () => {
    const response = await fetch(started.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('strict-transport-security')).toMatch(/max-age=/);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(response.headers.get('x-powered-by')).toBeNull();
  });
});

describe('development mode', () => {
  let started: StartedGateway;
  beforeAll(async () => {
    started = await startProtectedGateway({ recorders, issuer, env: { NODE_ENV: 'development', HTTP_BATCH_MAX_SIZE: '3' } });
  });
  afterAll(() => started?.gateway.close());

  it('keeps Apollo Sandbox working: its page loads, with security headers but no CSP that would block it', async () => {
    const response = await fetch(started.url, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('embeddable-sandbox.cdn.apollographql.com');
    expect(response.headers.get('content-security-policy')).toBeNull();
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('keeps suggestions, which help while developing', async () => {
    const response = await post(started.url, { query: TYPO });
    expect(JSON.stringify(response.body)).toMatch(/did you mean/i);
  });

  it('accepts configured HTTP batches, each operation checked against the limits', async () => {
    const ok = await post(started.url, [{ query: '{ __typename }' }, { query: 'query Two { __typename }' }]);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual([{ data: { __typename: 'Query' } }, { data: { __typename: 'Query' } }]);
    const tooMany = await post(started.url, Array.from({ length: 4 }, () => ({ query: '{ __typename }' })));
    expect(tooMany.status).toBe(400);
    expect(codesOf(tooMany.body.errors)).toEqual(['BATCH_TOO_LARGE']);
    const before = recorders.total();
    const oneTooDeep = await post(started.url, [
      { query: '{ users(first: 1) { edges { node { id } } } }' },
      { query: '{ me { assignedTasks { edges { node { assignee { assignedTasks { totalCount } } } } } } }' },
    ]);
    expect(codesOf(oneTooDeep.body.errors)).toEqual(['QUERY_TOO_DEEP']);
    expect(recorders.total()).toBe(before);
  });
});

describe('automatic persisted queries (in memory)', () => {
  let started: StartedGateway;
  beforeAll(async () => {
    started = await startProtectedGateway({ recorders, issuer });
  });
  afterAll(() => started?.gateway.close());

  it('follows the APQ protocol over HTTP: unknown hash, register, then by hash alone (also over WebSocket)', async () => {
    const query = `query Apq${randomUUID().replace(/-/g, '')} { __typename }`;
    const unknown = await post(started.url, { extensions: persisted(query) });
    expect(codesOf(unknown.body.errors)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    expect((await post(started.url, { query, extensions: persisted(query) })).body).toEqual({ data: { __typename: 'Query' } });
    expect((await post(started.url, { extensions: persisted(query) })).body).toEqual({ data: { __typename: 'Query' } });
    const client = wsClient(started.wsUrl);
    expect((await wsRun(client, { query: '', extensions: persisted(query) })).result).toEqual({ data: { __typename: 'Query' } });
    await client.dispose();
  });

  it('registers over WebSocket too, and refuses a hash that is not the query\'s', async () => {
    const query = `query ApqWs${randomUUID().replace(/-/g, '')} { __typename }`;
    const client = wsClient(started.wsUrl);
    expect(codesOf((await wsRun(client, { query: '', extensions: persisted(query) })).errors)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    expect((await wsRun(client, { query, extensions: persisted(query) })).result).toEqual({ data: { __typename: 'Query' } });
    expect((await post(started.url, { extensions: persisted(query) })).body).toEqual({ data: { __typename: 'Query' } });
    const forged = await wsRun(client, { query: '{ __typename }', extensions: persisted(query) });
    expect(codesOf(forged.errors)).toEqual(['BAD_REQUEST']);
    await client.dispose();
  });

  it('never registers an operation over the limits', async () => {
    const query = `query Deep${randomUUID().replace(/-/g, '')} { me { assignedTasks { edges { node { assignee { assignedTasks { totalCount } } } } } } }`;
    const registering = await post(started.url, { query, extensions: persisted(query) });
    expect(codesOf(registering.body.errors)).toEqual(['QUERY_TOO_DEEP']);
    const byHash = await post(started.url, { extensions: persisted(query) });
    expect(codesOf(byHash.body.errors)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
  });
});

describe('trusted documents (TRUSTED_DOCUMENTS_PATH)', () => {
  const registered = 'query Registered { __typename }';
  let dir: string;
  let started: StartedGateway;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'trusted-'));
    const manifest = path.join(dir, 'manifest.json');
    writeFileSync(
      manifest,
      JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: sha256(registered), name: 'Registered', type: 'query', body: registered }] }),
    );
    started = await startProtectedGateway({ recorders, issuer, env: { TRUSTED_DOCUMENTS_PATH: manifest } });
  });
  afterAll(async () => {
    await started?.gateway.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a registered operation by hash or by its exact text, over HTTP and WebSocket', async () => {
    expect((await post(started.url, { extensions: persisted(registered) })).body).toEqual({ data: { __typename: 'Query' } });
    expect((await post(started.url, { query: registered })).body).toEqual({ data: { __typename: 'Query' } });
    const client = wsClient(started.wsUrl);
    expect((await wsRun(client, { query: '', extensions: persisted(registered) })).result).toEqual({ data: { __typename: 'Query' } });
    await client.dispose();
  });

  it('refuses anything else with OPERATION_NOT_TRUSTED, before any subgraph is called', async () => {
    const before = recorders.total();
    const other = '{ users(first: 1) { edges { node { id } } } }';
    for (const body of [{ query: other }, { extensions: persisted(other) }, { query: other, extensions: persisted(other) }]) {
      const response = await post(started.url, body);
      expect(response.status).toBe(400);
      expect(codesOf(response.body.errors)).toEqual(['OPERATION_NOT_TRUSTED']);
    }
    const client = wsClient(started.wsUrl);
    expect(codesOf((await wsRun(client, { query: other })).errors)).toEqual(['OPERATION_NOT_TRUSTED']);
    expect(codesOf((await wsRun(client, { query: 'subscription { taskChanged { cursor } }' })).errors)).toEqual(['OPERATION_NOT_TRUSTED']);
    await client.dispose();
    expect(recorders.total()).toBe(before);
  });

  it('refuses to start with a manifest whose id is not the hash of its body, naming the entry', async () => {
    const broken = path.join(dir, 'broken.json');
    writeFileSync(broken, JSON.stringify({ [sha256('something else')]: registered }));
    await expect(startProtectedGateway({ recorders, issuer, env: { TRUSTED_DOCUMENTS_PATH: broken } })).rejects.toThrow(
      /TRUSTED_DOCUMENTS_PATH: [0-9a-f]{64} is not the sha256 of its body/,
    );
  });
});
