/**
 * Sign-up, log-in, refresh and log-out over real HTTP against the auth subgraph, with the real
 * user subgraph provisioning profiles from the auth.user-registered event.
 */
import { createHash, randomUUID } from 'node:crypto';
import jwt, { type JwtPayload } from 'jsonwebtoken';
import { graphql, type GraphQLResponse } from '@meridian/testing';
import { createTokenVerifier } from '@meridian/tokens';
import { startAuthPlatform, type AuthPlatform } from './harness';

let platform: AuthPlatform;
/** Every password and token this file handled: none may appear in the logs. */
const secrets = new Set<string>();

const PAYLOAD = 'accessToken refreshToken expiresAt user { id email }';
const SIGN_UP = `mutation($input: SignUpInput!) { signUp(input: $input) { ${PAYLOAD} } }`;
const LOG_IN = `mutation($input: LogInInput!) { logIn(input: $input) { ${PAYLOAD} } }`;
const REFRESH = `mutation($token: String!) { refreshSession(refreshToken: $token) { ${PAYLOAD} } }`;
const LOG_OUT = 'mutation { logOut }';
const SESSIONS = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id sessions { id current } } } }`;

interface AuthPayload {
  accessToken: string;
  refreshToken: string;
  expiresAt: string;
  user: { id: string; email: string };
}

const unique = () => randomUUID().slice(0, 8);
const password = () => `correct horse ${unique()} battery`;

function remember<T extends Partial<AuthPayload>>(payload: T): T {
  if (payload.accessToken) secrets.add(payload.accessToken);
  if (payload.refreshToken) secrets.add(payload.refreshToken);
  return payload;
}

function auth(query: string, variables: Record<string, unknown> = {}, token?: string) {
  return graphql(platform.authUrl, query, { variables, ...(token ? { token } : {}) });
}

function dataOf<T>(result: GraphQLResponse, field: string): T {
  expect(result.errors).toBeUndefined();
  return remember((result.data as Record<string, T>)[field] as T & Partial<AuthPayload>);
}

function errorOf(result: GraphQLResponse) {
  expect(result.errors).toHaveLength(1);
  // Non-null fields null the whole data; logIn is nullable and is null itself.
  expect(Object.values(result.data ?? {}).every((value) => value === null)).toBe(true);
  return result.errors![0]!;
}

async function signUp(input: { email: string; password: string; displayName: string }) {
  secrets.add(input.password);
  return dataOf<AuthPayload>(await auth(SIGN_UP, { input }), 'signUp');
}

async function logIn(email: string, pass: string) {
  secrets.add(pass);
  return dataOf<AuthPayload>(await auth(LOG_IN, { input: { email, password: pass } }), 'logIn');
}

async function sessionsOf(userId: string, token?: string) {
  const result = await auth(SESSIONS, { reps: [{ __typename: 'User', id: userId }] }, token);
  expect(result.errors).toBeUndefined();
  return (result.data as { _entities: { sessions: { id: string; current: boolean }[] | null }[] })._entities[0]!.sessions;
}

async function counts() {
  const { prisma } = platform;
  return {
    identities: await prisma.identity.count(),
    sessions: await prisma.session.count(),
    outbox: await prisma.outboxEvent.count(),
  };
}

beforeAll(async () => {
  platform = await startAuthPlatform('auth-service');
});

afterAll(async () => {
  await platform?.stop();
});

describe('signUp', () => {
  it('returns an RS256 access token that verifies through the JWKS, and the profile already exists', async () => {
    const email = `Ada.${unique()}@Example.com`;
    const result = await signUp({ email, password: password(), displayName: '  Ada Lovelace ' });
    expect(result.user.email).toBe(email.toLowerCase());

    const verifier = createTokenVerifier({ jwksUrl: platform.jwksUrl, issuer: platform.issuer, audience: platform.audience });
    const viewer = await verifier.verify(result.accessToken);
    expect(viewer).toMatchObject({ kind: 'user', userId: result.user.id, roles: ['MEMBER'] });
    expect(viewer.scopes).toEqual(expect.arrayContaining(['tasks:read', 'tasks:write', 'users:read']));

    const decoded = jwt.decode(result.accessToken, { complete: true })!;
    const claims = decoded.payload as JwtPayload;
    const keys = ((await (await fetch(platform.jwksUrl)).json()) as { keys: { kid: string; kty: string; alg: string; d?: unknown }[] }).keys;
    expect(decoded.header).toMatchObject({ alg: 'RS256', kid: keys[0]!.kid });
    expect(keys.every((key) => key.kty === 'RSA' && key.alg === 'RS256' && key.d === undefined)).toBe(true);
    expect(claims).toMatchObject({ iss: 'meridian-auth', aud: 'meridian', sub: result.user.id, roles: ['MEMBER'] });
    expect(claims.jti).toEqual(expect.any(String));
    expect(claims.sid).toEqual(expect.any(String));
    expect(claims.exp! - claims.iat!).toBe(900);
    expect(new Date(result.expiresAt).getTime()).toBe(claims.exp! * 1000);
    // The refresh token is opaque, not a JWT.
    expect(result.refreshToken.split('.')).toHaveLength(1);

    // The user subgraph has the profile as soon as signUp answers (email normalised, name trimmed).
    const me = await graphql(platform.userUrl, '{ me { id email displayName roles } }', { token: result.accessToken });
    expect(me.errors).toBeUndefined();
    expect(me.data?.me).toEqual({ id: result.user.id, email: email.toLowerCase(), displayName: 'Ada Lovelace', roles: ['MEMBER'] });
    expect(platform.logs.text()).not.toContain('profile not confirmed in time');

    // The session of the token is the one listed as current.
    expect(await sessionsOf(result.user.id, result.accessToken)).toEqual([{ id: claims.sid, current: true }]);
  });

  it('stores an argon2id hash (m=19456, t=2, p=1) and only SHA-256 of the refresh token', async () => {
    const email = `hash.${unique()}@example.com`;
    const pass = password();
    const result = await signUp({ email, password: pass, displayName: 'Hash' });
    const identity = await platform.prisma.identity.findUniqueOrThrow({ where: { email } });
    expect(identity.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(identity.passwordHash).not.toContain(pass);
    const tokens = await platform.prisma.refreshToken.findMany({ where: { session: { identityId: identity.id } } });
    expect(tokens.map((token) => token.tokenHash)).toEqual([createHash('sha256').update(result.refreshToken).digest('hex')]);
  });

  it('answers CONFLICT naming input.email for a taken email in any case, and writes nothing', async () => {
    const email = `grace.${unique()}@example.com`;
    await signUp({ email, password: password(), displayName: 'Grace' });
    const before = await counts();
    const error = errorOf(await auth(SIGN_UP, { input: { email: ` ${email.toUpperCase()} `, password: password(), displayName: 'Imposter' } }));
    expect(error.extensions).toMatchObject({ code: 'CONFLICT', field: 'input.email' });
    expect(error.message).toContain('input.email');
    expect(await counts()).toEqual(before);
  });

  it.each([
    ['input.password', 'an 11-character password', { password: 'x'.repeat(11) }],
    ['input.password', 'a 1025-byte password', { password: 'x'.repeat(1025) }],
    ['input.password', 'a 513-character password of 2-byte characters (1026 bytes)', { password: 'é'.repeat(513) }],
    ['input.password', 'a common password', { password: 'password1234' }],
    ['input.password', 'a common password with a suffix', { password: 'Qwerty2024!!' }],
    ['input.password', 'one character repeated', { password: 'a'.repeat(16) }],
    ['input.email', 'an email without @', { email: 'not-an-email' }],
    ['input.email', 'an email with two @', { email: 'two@@example.com' }],
    ['input.displayName', 'a blank display name', { displayName: '   ' }],
    ['input.displayName', 'an 81-character display name', { displayName: 'n'.repeat(81) }],
  ])('answers BAD_USER_INPUT naming %s for %s, and writes nothing', async (field, _label, bad) => {
    const before = await counts();
    const input = { email: `bad.${unique()}@example.com`, password: password(), displayName: 'Bad', ...bad };
    secrets.add(input.password);
    const error = errorOf(await auth(SIGN_UP, { input }));
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(error.message.startsWith(`${field}:`)).toBe(true);
    expect(await counts()).toEqual(before);
  });
});

describe('logIn', () => {
  const email = `linus.${unique()}@example.com`;
  const pass = password();
  let userId: string;

  beforeAll(async () => {
    userId = (await signUp({ email, password: pass, displayName: 'Linus' })).user.id;
  });

  it('signs in with the email in any case, as a new session', async () => {
    const result = await logIn(email.toUpperCase(), pass);
    expect(result.user.id).toBe(userId);
    const claims = jwt.decode(result.accessToken) as JwtPayload;
    expect(claims.sub).toBe(userId);
    const sessions = await sessionsOf(userId, result.accessToken);
    expect(sessions).toHaveLength(2);
    expect(sessions!.filter((session) => session.current)).toEqual([{ id: claims.sid, current: true }]);
  });

  it('gives a wrong password and an unknown email the same UNAUTHENTICATED answer', async () => {
    const before = await counts();
    const wrongPassword = errorOf(await auth(LOG_IN, { input: { email, password: `${pass}!` } }));
    const unknownEmail = errorOf(await auth(LOG_IN, { input: { email: `nobody.${unique()}@example.com`, password: pass } }));
    const malformedEmail = errorOf(await auth(LOG_IN, { input: { email: 'nobody', password: pass } }));
    secrets.add(`${pass}!`);
    for (const error of [wrongPassword, unknownEmail, malformedEmail]) {
      expect(error.extensions?.code).toBe('UNAUTHENTICATED');
      expect(error.message).toBe(wrongPassword.message);
    }
    expect(wrongPassword.message).toBe('Invalid email or password.');
    expect(await counts()).toEqual(before);
  });
});

describe('refreshSession', () => {
  it('rotates: the new pair works, the spent refresh token does not', async () => {
    const first = await signUp({ email: `rot.${unique()}@example.com`, password: password(), displayName: 'Rot' });
    const second = dataOf<AuthPayload>(await auth(REFRESH, { token: first.refreshToken }), 'refreshSession');
    expect(second.user.id).toBe(first.user.id);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.accessToken).not.toBe(first.accessToken);
    const sid = (jwt.decode(first.accessToken) as JwtPayload).sid;
    expect((jwt.decode(second.accessToken) as JwtPayload).sid).toBe(sid);

    const third = dataOf<AuthPayload>(await auth(REFRESH, { token: second.refreshToken }), 'refreshSession');
    expect(await sessionsOf(first.user.id, third.accessToken)).toEqual([{ id: sid, current: true }]);
  });

  it('revokes the whole session when a spent token is presented again (the newest token fails too)', async () => {
    const email = `reuse.${unique()}@example.com`;
    const pass = password();
    const first = await signUp({ email, password: pass, displayName: 'Reuse' });
    const other = await logIn(email, pass); // a second device, untouched
    const second = dataOf<AuthPayload>(await auth(REFRESH, { token: first.refreshToken }), 'refreshSession');

    const replay = errorOf(await auth(REFRESH, { token: first.refreshToken }));
    expect(replay.extensions?.code).toBe('UNAUTHENTICATED');
    expect(replay.message).toMatch(/already used/);
    expect(errorOf(await auth(REFRESH, { token: second.refreshToken })).extensions?.code).toBe('UNAUTHENTICATED');

    const otherSid = (jwt.decode(other.accessToken) as JwtPayload).sid;
    expect(await sessionsOf(first.user.id, other.accessToken)).toEqual([{ id: otherSid, current: true }]);
    dataOf<AuthPayload>(await auth(REFRESH, { token: other.refreshToken }), 'refreshSession');
  });

  it('rejects unknown, empty and oversized tokens', async () => {
    for (const token of ['never-issued', '', 'x'.repeat(500)]) {
      expect(errorOf(await auth(REFRESH, { token })).extensions?.code).toBe('UNAUTHENTICATED');
    }
  });
});

describe('logOut', () => {
  it('ends the current session: its refresh token stops working, other sessions stay', async () => {
    const email = `bye.${unique()}@example.com`;
    const pass = password();
    const leaving = await signUp({ email, password: pass, displayName: 'Bye' });
    const staying = await logIn(email, pass);

    expect((await auth(LOG_OUT, {}, leaving.accessToken)).data).toEqual({ logOut: true });
    expect(errorOf(await auth(REFRESH, { token: leaving.refreshToken })).message).toBe('Invalid refresh token.');
    const stayingSid = (jwt.decode(staying.accessToken) as JwtPayload).sid;
    expect(await sessionsOf(leaving.user.id, staying.accessToken)).toEqual([{ id: stayingSid, current: true }]);
    dataOf<AuthPayload>(await auth(REFRESH, { token: staying.refreshToken }), 'refreshSession');
  });

  it('requires a signed-in caller', async () => {
    expect(errorOf(await auth(LOG_OUT)).extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('User.sessions', () => {
  it('is visible to the user themselves only', async () => {
    const alice = await signUp({ email: `alice.${unique()}@example.com`, password: password(), displayName: 'Alice' });
    const bob = await signUp({ email: `bob.${unique()}@example.com`, password: password(), displayName: 'Bob' });
    expect(await sessionsOf(alice.user.id, alice.accessToken)).toHaveLength(1);
    expect(await sessionsOf(alice.user.id, bob.accessToken)).toBeNull();
    expect(await sessionsOf(alice.user.id)).toBeNull();
  });

  it('rejects a forged token', async () => {
    const alice = await signUp({ email: `forge.${unique()}@example.com`, password: password(), displayName: 'Forge' });
    const [header, payload, signature] = alice.accessToken.split('.');
    const raised = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), roles: ['ADMIN'] })).toString('base64url');
    const result = await auth(SESSIONS, { reps: [{ __typename: 'User', id: alice.user.id }] }, `${header}.${raised}.${signature}`);
    expect(result.status).toBe(401);
    expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('logs', () => {
  it('never contain a password or a token', () => {
    const text = platform.logs.text();
    expect(platform.logs.entries().length).toBeGreaterThan(0); // the services did log (trace level)
    expect(secrets.size).toBeGreaterThan(20);
    const leaked = [...secrets].filter((secret) => text.includes(secret));
    expect(leaked).toEqual([]);
  });
});
