import path from 'node:path';
import pino from 'pino';
import { findRepoRoot } from '@meridian/composition';
import { createTokenVerifier } from '@meridian/tokens';
import { createGateway, type Gateway } from '../src/server';

const root = findRepoRoot(__dirname);

async function startGateway(production: boolean): Promise<{ gateway: Gateway; url: string }> {
  const gateway = createGateway({
    supergraphPath: path.join(root, 'supergraph.graphql'),
    supergraphConfigPath: path.join(root, 'supergraph.yaml'),
    // No request here carries a token, so the JWKS is never fetched.
    verifier: createTokenVerifier({ jwksUrl: 'http://127.0.0.1:9/.well-known/jwks.json', issuer: 'meridian-auth', audience: 'meridian' }),
    logger: pino({ level: 'silent' }),
    production,
  });
  const running = await gateway.listen(0);
  return { gateway, url: `${running.url}/graphql` };
}

const introspection = JSON.stringify({ query: '{ __schema { queryType { name } } }' });

describe('gateway in development', () => {
  let started: { gateway: Gateway; url: string };
  beforeAll(async () => {
    started = await startGateway(false);
  });
  afterAll(() => started.gateway.close());

  it('serves Apollo Sandbox to a browser', async () => {
    const response = await fetch(started.url, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('embeddable-sandbox.cdn.apollographql.com');
  });

  it('answers introspection (Sandbox needs it)', async () => {
    const response = await fetch(started.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: introspection });
    expect(await response.json()).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
  });

  it('answers /healthz', async () => {
    const response = await fetch(started.url.replace('/graphql', '/healthz'));
    expect(await response.json()).toEqual({ status: 'ok', service: 'gateway' });
  });

  it('rejects a malformed Authorization header with 401 before calling any subgraph', async () => {
    const response = await fetch(started.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Basic dXNlcjpwYXNz' },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    expect(response.status).toBe(401);
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe('UNAUTHENTICATED');
  });
});

describe('gateway with NODE_ENV=production', () => {
  let started: { gateway: Gateway; url: string };
  beforeAll(async () => {
    started = await startGateway(true);
  });
  afterAll(() => started.gateway.close());

  it('refuses introspection', async () => {
    const response = await fetch(started.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: introspection });
    const body = (await response.json()) as { errors?: { message: string }[] };
    expect(body.errors?.[0]?.message).toMatch(/introspection/i);
  });

  it('does not serve the Sandbox', async () => {
    const response = await fetch(started.url, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(400);
    expect(await response.text()).not.toContain('<html');
  });
});
