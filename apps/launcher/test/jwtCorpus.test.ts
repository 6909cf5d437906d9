import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { errorCodes, eventually, getTestModes, graphql, preparePlatformEnv, startTestTokenIssuer, type PreparedEnv, type TestTokenIssuer } from '@meridian/testing';
import { startPlatform, type Platform } from '../src/platform';
import { collect, primeStreams, signUp, wsClient } from './subscriptionHelpers';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * The negative JWT corpus against the running platform: every token must be refused by the
 * gateway on HTTP (401 UNAUTHENTICATED) and on WebSocket connection_init (close 4403), and by a
 * subgraph reached directly (401). The platform trusts a test issuer's JWKS so that each forged
 * token differs from an accepted one in exactly one respect.
 */
const mode = getTestModes()[0]!;

describe(`negative JWT corpus at the gateway and a subgraph (${mode.name})`, () => {
  let prepared: PreparedEnv;
  let platform: Platform;
  let issuer: TestTokenIssuer;
  let url: string;
  let taskUrl: string;
  const userId = randomUUID();
  const corpus: Record<string, () => Promise<string> | string> = {};

  const claims = (overrides: Record<string, unknown> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return { sub: userId, iss: issuer.issuer, aud: issuer.audience, jti: randomUUID(), iat: now, exp: now + 600, roles: ['MEMBER'], scope: 'tasks:read tasks:write users:read', ...overrides };
  };

  beforeAll(async () => {
    issuer = await startTestTokenIssuer();
    prepared = await preparePlatformEnv(mode);
    platform = await startPlatform({ env: { ...prepared.env, JWKS_URL: issuer.jwksUrl } });
    url = platform.gatewayUrl;
    taskUrl = `${platform.services.task.url}/graphql`;
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    Object.assign(corpus, {
      'alg none': () => `${b64({ alg: 'none', typ: 'JWT', kid: issuer.kid })}.${b64(claims())}.`,
      'HS256 signed with the public key': async () => {
        const jwks = (await (await fetch(issuer.jwksUrl)).json()) as { keys: Record<string, unknown>[] };
        const { createPublicKey } = await import('node:crypto');
        const pem = createPublicKey({ key: jwks.keys[0] as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
        const unsigned = `${b64({ alg: 'HS256', typ: 'JWT', kid: issuer.kid })}.${b64(claims())}`;
        return `${unsigned}.${createHmac('sha256', pem).update(unsigned).digest('base64url')}`;
      },
      'unknown kid': () => jwt.sign(claims(), stranger, { algorithm: 'RS256', keyid: 'not-a-published-kid' }),
      'known kid, other key': () => jwt.sign(claims(), stranger, { algorithm: 'RS256', keyid: issuer.kid }),
      'expired beyond the tolerance': () => issuer.signPayload(claims({ iat: Math.floor(Date.now() / 1000) - 3600, exp: Math.floor(Date.now() / 1000) - 60 })),
      'nbf in the future': () => issuer.signPayload(claims({ nbf: Math.floor(Date.now() / 1000) + 3600 })),
      'wrong iss': () => issuer.signPayload(claims({ iss: 'https://evil.example.com' })),
      'wrong aud': () => issuer.signPayload(claims({ aud: 'another-service' })),
      'tampered payload (roles raised)': () => {
        const [header, , signature] = issuer.signPayload(claims()).split('.');
        return `${header}.${b64(claims({ roles: ['ADMIN'], scope: 'tasks:read tasks:write users:read users:admin' }))}.${signature}`;
      },
      'no sub': () => issuer.signPayload((({ sub: _sub, ...rest }) => rest)(claims())),
    });
  }, 300_000);

  afterAll(async () => {
    await platform?.stop();
    await prepared?.cleanup();
    await issuer?.close();
  });

  const QUERY = '{ tasks(first: 1) { edges { node { id } } } }';

  it('accepts the untampered control token on HTTP, WebSocket and at the subgraph', async () => {
    const token = issuer.signPayload(claims());
    const viaGateway = await graphql(url, QUERY, { token });
    expect(viaGateway.errors).toBeUndefined();
    const direct = await graphql(taskUrl, QUERY, { token });
    expect(direct.errors).toBeUndefined();
    let client: ReturnType<typeof wsClient> | undefined;
    const opened = await new Promise<string>((resolve) => {
      client = wsClient(url, token, { on: { connected: () => resolve('connected'), closed: (event) => resolve(`closed ${(event as { code: number }).code}`) } });
      collect(client.iterate({ query: 'subscription { taskChanged { kind } }' }));
    });
    await client?.dispose();
    expect(opened).toBe('connected');
  });

  const names = [
    'alg none',
    'HS256 signed with the public key',
    'unknown kid',
    'known kid, other key',
    'expired beyond the tolerance',
    'nbf in the future',
    'wrong iss',
    'wrong aud',
    'tampered payload (roles raised)',
    'no sub',
  ];

  it.each(names)('%s: gateway HTTP answers 401 UNAUTHENTICATED', async (name) => {
    const result = await graphql(url, QUERY, { token: await corpus[name]!() });
    expect({ name, status: result.status, codes: errorCodes(result), data: result.data ?? null }).toEqual({ name, status: 401, codes: ['UNAUTHENTICATED'], data: null });
  });

  it.each(names)('%s: gateway WebSocket connection_init is closed with 4403', async (name) => {
    const token = await corpus[name]!();
    let connected = false;
    const code = await new Promise<number>((resolve) => {
      const client = wsClient(url, token, {
        on: { connected: () => (connected = true), closed: (event) => resolve((event as { code: number }).code) },
      });
      collect(client.iterate({ query: 'subscription { taskChanged { kind } }' }));
    });
    expect({ name, code, connected }).toEqual({ name, code: 4403, connected: false });
  });

  it.each(names)('%s: a subgraph reached directly answers 401 UNAUTHENTICATED', async (name) => {
    const result = await graphql(taskUrl, QUERY, { token: await corpus[name]!() });
    expect({ name, status: result.status, codes: errorCodes(result) }).toEqual({ name, status: 401, codes: ['UNAUTHENTICATED'] });
  });
});

describe(`a locked account's token at the gateway (${mode.name})`, () => {
  let prepared: PreparedEnv;
  let platform: Platform;
  let url: string;

  beforeAll(async () => {
    prepared = await preparePlatformEnv(mode);
    // Live subscriptions' tokens checked again every half second (default 30 s).
    platform = await startPlatform({ env: { ...prepared.env, SUBSCRIPTION_ACCOUNT_CHECK_MS: '500' } });
    url = platform.gatewayUrl;
  }, 300_000);

  afterAll(async () => {
    await platform?.stop();
    await prepared?.cleanup();
  });

  it('is refused on HTTP (401) and at WebSocket connection_init (4403) once the account is hard-locked; its live subscriptions end', async () => {
    const victim = await signUp(url, 'Victim');
    expect((await graphql(url, '{ me { id } }', { token: victim.accessToken })).data).toEqual({ me: { id: victim.userId } });
    // A subscription opened while the account is fine.
    const subscribed = wsClient(url, victim.accessToken);
    const live = collect(subscribed.iterate({ query: 'subscription { taskChanged { kind } }' }));
    const createTask = (title: string) => graphql(url, 'mutation($title: String!) { createTask(input: { title: $title }) { id } }', { token: victim.accessToken, variables: { title } });
    await primeStreams([live], () => createTask('probe'));
    // 20 failed attempts, aliased 10 per request (the gateway allows 15 aliases per operation).
    const aliases = Array.from({ length: 10 }, (_, i) => `a${i}: logIn(input: { email: $email, password: $password }) { accessToken }`).join('\n');
    let attempts: Awaited<ReturnType<typeof graphql<Record<string, unknown>>>> | undefined;
    for (let round = 0; round < 2; round++) {
      attempts = await graphql(url, `mutation($email: String!, $password: String!) {\n${aliases}\n}`, {
        variables: { email: victim.email, password: 'not the password at all' },
      });
    }
    expect(errorCodes(attempts!).at(-1)).toBe('RATE_LIMITED');
    // The live subscription ends with UNAUTHENTICATED at the next check (the verifier reuses the
    // account's status for 5 s), long before its token would expire.
    await live.waitForEnd(20_000);
    const ending = JSON.stringify(live.failure ?? live.received.at(-1));
    expect(ending).toContain('UNAUTHENTICATED');
    expect(ending).toContain('no longer accepted');
    await subscribed.dispose();
    // Verifiers reuse a subject's status for a few seconds: poll with a deadline.
    await eventually(async () => {
      const result = await graphql(url, '{ me { id } }', { token: victim.accessToken });
      if (result.status !== 401) throw new Error(`still accepted (HTTP ${result.status})`);
    }, 20_000);
    expect(errorCodes(await graphql(url, '{ me { id } }', { token: victim.accessToken }))).toEqual(['UNAUTHENTICATED']);
    const code = await new Promise<number>((resolve) => {
      const client = wsClient(url, victim.accessToken, { on: { closed: (event) => resolve((event as { code: number }).code) } });
      collect(client.iterate({ query: 'subscription { taskChanged { kind } }' }));
    });
    expect(code).toBe(4403);
  });
});
