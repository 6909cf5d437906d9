/**
 * The verifier against a real JWKS endpoint (HTTP, port 0) serving RS256 keys made here.
 */
import { createHmac, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import http from 'node:http';
import jwt from 'jsonwebtoken';
import { listen, type RunningServer } from '@meridian/service-kit';
import { createTokenVerifier, hasRole, isSignedIn, type TokenVerifier } from '../src';

const ISSUER = 'meridian-auth';
const AUDIENCE = 'meridian';

interface TestKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  jwk: Record<string, unknown>;
}

function makeKey(kid: string): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, publicKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } };
}

const b64url = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

const first = makeKey('key-1');
const rotated = makeKey('key-2');
const published: TestKey[] = [first];
let jwksRequests = 0;
let jwksServer: RunningServer;
let verifier: TokenVerifier;

function claims(overrides: Record<string, unknown> = {}) {
  return {
    sub: 'user-1',
    jti: randomUUID(),
    iss: ISSUER,
    aud: AUDIENCE,
    iat: now(),
    exp: now() + 900,
    roles: ['MEMBER'],
    scope: 'tasks:read tasks:write users:read',
    sid: 'session-1',
    ...overrides,
  };
}

function sign(payload: Record<string, unknown> = claims(), key: TestKey = first, header: Record<string, unknown> = {}) {
  return jwt.sign(payload, key.privateKey, { algorithm: 'RS256', keyid: key.kid, header: { alg: 'RS256', kid: key.kid, ...header } as jwt.JwtHeader });
}

async function rejection(token: string) {
  const error = await verifier.verify(token).then(
    () => undefined,
    (caught: unknown) => caught as { message: string; extensions?: Record<string, unknown> },
  );
  expect(error).toBeDefined();
  expect(error?.extensions?.code).toBe('UNAUTHENTICATED');
  return error!.message;
}

beforeAll(async () => {
  jwksServer = await listen(
    http.createServer((req, res) => {
      if (req.url !== '/.well-known/jwks.json') {
        res.statusCode = 404;
        res.end();
        return;
      }
      jwksRequests++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: published.map((key) => key.jwk) }));
    }),
    0,
  );
  verifier = createTokenVerifier({ jwksUrl: `${jwksServer.url}/.well-known/jwks.json`, issuer: ISSUER, audience: AUDIENCE });
});

afterAll(async () => {
  await jwksServer?.close();
});

describe('a valid token', () => {
  it('becomes a signed-in viewer with roles, scopes, session and token id', async () => {
    const payload = claims({ roles: ['ADMIN', 'MEMBER', 'SUPERUSER'] });
    const viewer = await verifier.viewerFromAuthorization(`Bearer ${sign(payload)}`);
    expect(viewer).toEqual({
      kind: 'user',
      userId: 'user-1',
      roles: ['ADMIN', 'MEMBER'], // unknown roles are dropped
      scopes: ['tasks:read', 'tasks:write', 'users:read'],
      tokenId: payload.jti,
      sessionId: 'session-1',
      expiresAt: payload.exp,
    });
    expect(isSignedIn(viewer)).toBe(true);
    expect(hasRole(viewer, 'ADMIN')).toBe(true);
    expect(hasRole(viewer, 'VIEWER')).toBe(false);
  });

  it('is accepted slightly after expiry (clock tolerance) and without sid', async () => {
    const { sid: _sid, ...withoutSid } = claims({ exp: now() - 2 });
    const viewer = await verifier.verify(sign(withoutSid));
    expect(viewer.userId).toBe('user-1');
    expect(viewer).not.toHaveProperty('sessionId');
  });
});

describe('rejected tokens (UNAUTHENTICATED)', () => {
  it('alg "none" (unsigned)', async () => {
    const token = `${b64url({ alg: 'none', typ: 'JWT', kid: first.kid })}.${b64url(claims({ roles: ['ADMIN'] }))}.`;
    await rejection(token);
    await expect(verifier.viewerFromAuthorization(`Bearer ${token}`)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('HS256 signed with the public key as the HMAC secret', async () => {
    const secret = first.publicKey.export({ type: 'spki', format: 'pem' });
    const signingInput = `${b64url({ alg: 'HS256', typ: 'JWT', kid: first.kid })}.${b64url(claims({ roles: ['ADMIN'] }))}`;
    const signature = createHmac('sha256', secret).update(signingInput).digest('base64url');
    await rejection(`${signingInput}.${signature}`);
  });

  it('a token signed by a key that is not in the JWKS', async () => {
    const stranger = makeKey('key-1'); // same kid, different key
    await rejection(sign(claims(), stranger));
  });

  it('expired beyond the tolerance', async () => {
    expect(await rejection(sign(claims({ iat: now() - 1000, exp: now() - 60 })))).toBe('Access token expired.');
  });

  it('not valid yet (nbf in the future)', async () => {
    await rejection(sign(claims({ nbf: now() + 120 })));
  });

  it('wrong issuer', async () => {
    await rejection(sign(claims({ iss: 'someone-else' })));
  });

  it('wrong audience', async () => {
    await rejection(sign(claims({ aud: 'another-app' })));
  });

  it('tampered payload (roles raised after signing)', async () => {
    const [header, , signature] = sign().split('.');
    await rejection(`${header}.${b64url(claims({ roles: ['ADMIN'] }))}.${signature}`);
  });

  it('no kid, or no subject', async () => {
    await rejection(jwt.sign(claims(), first.privateKey, { algorithm: 'RS256' }));
    const { sub: _sub, ...withoutSub } = claims();
    await rejection(sign(withoutSub));
  });

  it('garbage', async () => {
    await rejection('not-a-jwt');
    await rejection('a.b.c');
  });
});

describe('Authorization header', () => {
  it('absent or empty means anonymous', async () => {
    expect(await verifier.viewerFromAuthorization(undefined)).toEqual({ kind: 'anonymous' });
    expect(await verifier.viewerFromAuthorization(null)).toEqual({ kind: 'anonymous' });
    expect(await verifier.viewerFromAuthorization('')).toEqual({ kind: 'anonymous' });
  });

  it.each(['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', `Token ${'a.b.c'}`, 'Bearer a.b'])(
    'rejects %p',
    async (header) => {
      await expect(verifier.viewerFromAuthorization(header)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    },
  );
});

describe('key rotation', () => {
  it('refetches the JWKS for an unknown kid, and rejects it when still unknown', async () => {
    await verifier.verify(sign()); // key-1 is cached
    const before = jwksRequests;
    await rejection(sign(claims(), makeKey('key-unknown')));
    expect(jwksRequests).toBe(before + 1);
  });

  it('verifies a token of a newly published key without a restart', async () => {
    await verifier.verify(sign());
    await rejection(sign(claims(), rotated)); // not published yet
    published.unshift(rotated);
    const before = jwksRequests;
    const viewer = await verifier.verify(sign(claims({ sub: 'user-2' }), rotated));
    expect(viewer.userId).toBe('user-2');
    expect(jwksRequests).toBe(before + 1);
    // The old key still verifies from the cache.
    await verifier.verify(sign());
    expect(jwksRequests).toBe(before + 1);
  });
});

describe('an unreachable JWKS endpoint', () => {
  it('fails closed with UNAUTHENTICATED, and reads the URL lazily', async () => {
    let url = 'http://127.0.0.1:1/.well-known/jwks.json';
    const lazy = createTokenVerifier({ jwksUrl: () => url, issuer: ISSUER, audience: AUDIENCE });
    await expect(lazy.verify(sign())).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    url = `${jwksServer.url}/.well-known/jwks.json`;
    const fresh = createTokenVerifier({ jwksUrl: () => url, issuer: ISSUER, audience: AUDIENCE });
    expect((await fresh.verify(sign())).userId).toBe('user-1');
  });
});

describe('revocation by account (subject status)', () => {
  const statuses = new Map<string, number | boolean>();
  let statusRequests = 0;
  let statusServer: RunningServer;

  beforeAll(async () => {
    statusServer = await listen(
      http.createServer((req, res) => {
        statusRequests += 1;
        const subject = decodeURIComponent(req.url?.split('/').pop() ?? '');
        const status = statuses.get(subject) ?? true;
        if (typeof status === 'number') {
          res.statusCode = status;
          res.end();
          return;
        }
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ active: status }));
      }),
      0,
    );
  });

  afterAll(() => statusServer.close());

  const verifierWith = (cacheMs: number) =>
    createTokenVerifier({ jwksUrl: `${jwksServer.url}/.well-known/jwks.json`, issuer: ISSUER, audience: AUDIENCE, subjectStatusUrl: `${statusServer.url}/status`, subjectStatusCacheMs: cacheMs });

  it('refuses a valid token whose subject is no longer active (deleted or locked)', async () => {
    statuses.set('gone', false);
    const check = verifierWith(0);
    await expect(check.verify(sign(claims({ sub: 'gone' })))).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    expect((await check.verify(sign(claims({ sub: 'here' })))).userId).toBe('here');
  });

  it('asks only for tokens whose signature verified, and caches answers per subject', async () => {
    const check = verifierWith(60_000);
    const before = statusRequests;
    await rejection(sign(claims({ sub: 'forged' }), makeKey('key-1')));
    await expect(check.verify(sign(claims({ sub: 'forged' }), makeKey('key-1')))).rejects.toBeDefined();
    expect(statusRequests).toBe(before);
    await Promise.all([check.verify(sign(claims({ sub: 'cached' }))), check.verify(sign(claims({ sub: 'cached' })))]);
    await check.verify(sign(claims({ sub: 'cached' })));
    expect(statusRequests).toBe(before + 1);
  });

  it('fails closed without any answer, reuses a recent answer when the issuer errs, and treats 404 as "no status published"', async () => {
    statuses.set('flaky', 500);
    await expect(verifierWith(0).verify(sign(claims({ sub: 'flaky' })))).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    const check = verifierWith(0);
    statuses.set('steady', true);
    await check.verify(sign(claims({ sub: 'steady' })));
    statuses.set('steady', 500);
    expect((await check.verify(sign(claims({ sub: 'steady' })))).userId).toBe('steady');
    statuses.set('unpublished', 404);
    expect((await verifierWith(0).verify(sign(claims({ sub: 'unpublished' })))).userId).toBe('unpublished');
  });

  it('derives the URL from an auth-service JWKS URL, and can be turned off', async () => {
    // This file's JWKS server answers 404 on /.well-known/subject-status: no status published.
    expect((await verifier.verify(sign())).userId).toBe('user-1');
    statuses.set('off', false);
    const off = createTokenVerifier({ jwksUrl: `${jwksServer.url}/.well-known/jwks.json`, issuer: ISSUER, audience: AUDIENCE, subjectStatusUrl: false });
    expect((await off.verify(sign(claims({ sub: 'off' })))).userId).toBe('off');
  });
});
