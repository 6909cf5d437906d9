/**
 * Account security over real HTTP: lockout and backoff (injectable clock, no sleeps), aliasing,
 * refresh-token reuse, signing-key rotation, TOTP MFA, password change and reset, roles, the
 * audit log — and that no secret reaches the logs, the audit log or an error message.
 */
import { randomUUID } from 'node:crypto';
import jwt, { type JwtPayload } from 'jsonwebtoken';
import { eventually, graphql, type GraphQLResponse } from '@meridian/testing';
import { createTokenVerifier } from '@meridian/tokens';
import { createAuthStore } from '../src/data/authStore';
import { createPasswordResetDelivery, recordRolesChanged } from '../src/events';
import { createTokenIssuer } from '../src/domain/signingKeys';
import { base32Decode, hotp, timeStepAt, totpAt } from '../src/domain/totp';
import { startAuthPlatform, type AuthPlatform } from './harness';

const ADMIN_EMAIL = `root.${randomUUID().slice(0, 8)}@example.com`;
let platform: AuthPlatform;
/** Every password, token, secret and recovery code this file handled. */
const secrets = new Set<string>();
/** Every error message clients saw. */
const errorMessages: string[] = [];

const PAYLOAD = 'accessToken refreshToken expiresAt user { id email }';
const SIGN_UP = `mutation($input: SignUpInput!) { signUp(input: $input) { ${PAYLOAD} } }`;
const LOG_IN = `mutation($input: LogInInput!) { logIn(input: $input) { mfaRequired mfaChallenge { mfaToken expiresAt } ${PAYLOAD} } }`;
const VERIFY_MFA = `mutation($input: VerifyMfaInput!) { verifyMfa(input: $input) { ${PAYLOAD} } }`;
const REFRESH = `mutation($token: String!) { refreshSession(refreshToken: $token) { ${PAYLOAD} } }`;

interface Tokens {
  accessToken: string;
  refreshToken: string;
  user: { id: string; email: string };
}

const unique = () => randomUUID().slice(0, 8);
const password = () => `correct horse ${unique()} battery`;
const kidOf = (token: string) => jwt.decode(token, { complete: true })!.header.kid;
const claimsOf = (token: string) => jwt.decode(token) as JwtPayload;

function keep(value: unknown) {
  if (typeof value === 'string' && value.length >= 8) secrets.add(value);
}

async function call(query: string, variables: Record<string, unknown> = {}, token?: string): Promise<GraphQLResponse> {
  const result = await graphql(platform.authUrl, query, { variables, ...(token ? { token } : {}) });
  for (const error of result.errors ?? []) errorMessages.push(error.message);
  const data = result.data as Record<string, Record<string, unknown> | null> | undefined;
  for (const value of Object.values(data ?? {})) {
    // Recovery codes (confirmMfaEnrollment) are a list of secrets.
    if (Array.isArray(value)) value.forEach(keep);
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      keep(value.accessToken);
      keep(value.refreshToken);
      keep((value.mfaChallenge as { mfaToken?: string } | null)?.mfaToken);
      keep(value.secret);
    }
  }
  return result;
}

function ok<T>(result: GraphQLResponse, field: string): T {
  expect(result.errors).toBeUndefined();
  return (result.data as Record<string, T>)[field] as T;
}

function failure(result: GraphQLResponse) {
  expect(result.errors).toHaveLength(1);
  return result.errors![0]!;
}

async function signUp(email = `u.${unique()}@example.com`, pass = password()) {
  keep(pass);
  const tokens = ok<Tokens>(await call(SIGN_UP, { input: { email, password: pass, displayName: 'Someone' } }), 'signUp');
  return { ...tokens, email, password: pass };
}

function logIn(email: string, pass: string) {
  keep(pass);
  return call(LOG_IN, { input: { email, password: pass } });
}

async function throttleOf(email: string) {
  return platform.prisma.loginThrottle.findUnique({ where: { email } });
}

let admin: Awaited<ReturnType<typeof signUp>>;

beforeAll(async () => {
  platform = await startAuthPlatform('auth-security', {
    env: { BOOTSTRAP_ADMIN_EMAILS: ` other@example.com , ${ADMIN_EMAIL.toUpperCase()}`, SIGNING_KEY_CACHE_MS: '0', SIGNING_KEY_CHECK_INTERVAL_MS: '1000' },
  });
  admin = await signUp(ADMIN_EMAIL);
});

afterAll(async () => {
  await platform?.stop();
});

describe('passwords', () => {
  it('rejects a password over 1 KB at log-in before any work, naming the field', async () => {
    const { email } = await signUp();
    const huge = 'x'.repeat(1025);
    const error = failure(await logIn(email, huge));
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.password' });
    expect(await throttleOf(email)).toBeNull();
  });
});

describe('lockout', () => {
  it('counts 30 aliased attempts in one request one by one, and ends hard-locked until an admin unlocks', async () => {
    const victim = await signUp();
    const aliases = Array.from({ length: 30 }, (_, i) => `a${i}: logIn(input: { email: $email, password: $password }) { accessToken }`).join('\n');
    const wrong = `${victim.password}!`;
    keep(wrong);
    const result = await call(`mutation($email: String!, $password: String!) {\n${aliases}\n}`, { email: victim.email, password: wrong });
    const codes = (result.errors ?? []).map((error) => error.extensions?.code);
    expect(codes).toHaveLength(30);
    expect(codes.slice(0, 5)).toEqual(Array(5).fill('UNAUTHENTICATED'));
    expect(codes.slice(5).every((code) => code === 'RATE_LIMITED')).toBe(true);
    const row = await throttleOf(victim.email);
    expect(row).toMatchObject({ failures: 30, lockedOutAt: expect.any(Date) });

    // The right password, even much later, is still refused.
    platform.clock.advance(24 * 60 * 60 * 1000);
    const refused = failure(await logIn(victim.email, victim.password));
    expect(refused.extensions).toMatchObject({ code: 'RATE_LIMITED', locked: true });

    const locked = await platform.prisma.securityEvent.findMany({ where: { userId: victim.user.id, kind: 'ACCOUNT_LOCKED' } });
    expect(locked.map((event) => (event.details as { hard?: boolean }).hard ?? false)).toEqual(expect.arrayContaining([true]));

    // (The victim's own token no longer works while hard-locked: see "revocation by account".)
    const bystander = await signUp();
    expect(failure(await call('mutation($id: ID!) { unlockAccount(userId: $id) }', { id: victim.user.id }, bystander.accessToken)).extensions?.code).toBe('FORBIDDEN');
    expect(ok(await call('mutation($id: ID!) { unlockAccount(userId: $id) }', { id: victim.user.id }, admin.accessToken), 'unlockAccount')).toBe(true);
    expect(ok<{ accessToken: string }>(await logIn(victim.email, victim.password), 'logIn').accessToken).toEqual(expect.any(String));
  });

  it('backs off exponentially from the 5th failure (1 s, 2 s, 4 s, ...), and a success resets the counter', async () => {
    const user = await signUp();
    const wrong = `${user.password}?`;
    keep(wrong);
    for (let i = 1; i <= 5; i += 1) expect(failure(await logIn(user.email, wrong)).extensions?.code).toBe('UNAUTHENTICATED');
    const lockFor = async () => {
      const row = (await throttleOf(user.email))!;
      return { failures: row.failures, ms: row.lockedUntil!.getTime() - row.updatedAt.getTime() };
    };
    expect(await lockFor()).toEqual({ failures: 5, ms: 1000 });

    // Refused while locked, even with the right password; the refused attempt counts too.
    const refused = failure(await logIn(user.email, user.password));
    expect(refused.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 2 });
    expect(await lockFor()).toEqual({ failures: 6, ms: 2000 });

    platform.clock.advance(2000);
    expect(failure(await logIn(user.email, wrong)).extensions?.code).toBe('UNAUTHENTICATED');
    expect(await lockFor()).toEqual({ failures: 7, ms: 4000 });
    platform.clock.advance(3000);
    expect(failure(await logIn(user.email, user.password)).extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 8 });

    platform.clock.advance(8000);
    expect(ok<{ accessToken: string }>(await logIn(user.email, user.password), 'logIn').accessToken).toEqual(expect.any(String));
    expect(await throttleOf(user.email)).toBeNull();
    expect(failure(await logIn(user.email, wrong)).extensions?.code).toBe('UNAUTHENTICATED');
    expect((await throttleOf(user.email))?.lockedUntil).toBeNull();
  });

  it('treats an unknown email the same way (no account enumeration through lockout)', async () => {
    const email = `ghost.${unique()}@example.com`;
    for (let i = 1; i <= 5; i += 1) expect(failure(await logIn(email, 'whatever it is 1')).extensions?.code).toBe('UNAUTHENTICATED');
    expect(failure(await logIn(email, 'whatever it is 1')).extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 2 });
  });
});

describe('revocation by account', () => {
  const ME = '{ me { id } }';
  it('a hard-locked account\'s access token stops working everywhere; unlocking restores it', async () => {
    const victim = await signUp();
    expect((await graphql(platform.userUrl, ME, { token: victim.accessToken })).data).toEqual({ me: { id: victim.user.id } });
    const aliases = Array.from({ length: 20 }, (_, i) => `a${i}: logIn(input: { email: $email, password: $password }) { accessToken }`).join('\n');
    const wrong = `${victim.password}#`;
    keep(wrong);
    await call(`mutation($email: String!, $password: String!) {\n${aliases}\n}`, { email: victim.email, password: wrong });
    expect(await throttleOf(victim.email)).toMatchObject({ lockedOutAt: expect.any(Date) });
    // Verifiers reuse a subject's status for 5 s: poll with a deadline.
    const refused = await eventually(async () => {
      const result = await graphql(platform.userUrl, ME, { token: victim.accessToken });
      if (result.status !== 401) throw new Error(`still accepted (HTTP ${result.status})`);
      return result;
    }, 20_000);
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const atAuth = await graphql(platform.authUrl, '{ auditLog(first: 1) { edges { node { id } } } }', { token: victim.accessToken });
    expect(atAuth.status).toBe(401);

    ok(await call('mutation($id: ID!) { unlockAccount(userId: $id) }', { id: victim.user.id }, admin.accessToken), 'unlockAccount');
    await eventually(async () => {
      const result = await graphql(platform.userUrl, ME, { token: victim.accessToken });
      if (result.status !== 200) throw new Error(`still refused (HTTP ${result.status})`);
    }, 20_000);
  });

  it('a deleted account\'s access token stops working, on HTTP at every subgraph', async () => {
    const gone = await signUp();
    expect((await graphql(platform.userUrl, ME, { token: gone.accessToken })).status).toBe(200);
    await platform.prisma.identity.delete({ where: { id: gone.user.id } });
    const refused = await eventually(async () => {
      const result = await graphql(platform.userUrl, ME, { token: gone.accessToken });
      if (result.status !== 401) throw new Error(`still accepted (HTTP ${result.status})`);
      return result;
    }, 20_000);
    expect(refused.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    expect((await graphql(platform.authUrl, 'mutation { logOutEverywhere }', { token: gone.accessToken })).status).toBe(401);
  });

  it('answers the subject status endpoint for active, locked and unknown subjects only with a boolean', async () => {
    const user = await signUp();
    const base = platform.jwksUrl.replace(/jwks\.json$/, 'subject-status');
    expect(await (await fetch(`${base}/${user.user.id}`)).json()).toEqual({ active: true });
    expect(await (await fetch(`${base}/no-such-user`)).json()).toEqual({ active: false });
  });
});

describe('refresh tokens', () => {
  it('a token two generations old fails and revokes the family; logOutEverywhere and revokeSession end sessions', async () => {
    const first = await signUp();
    const second = ok<Tokens>(await call(REFRESH, { token: first.refreshToken }), 'refreshSession');
    const third = ok<Tokens>(await call(REFRESH, { token: second.refreshToken }), 'refreshSession');
    const replay = failure(await call(REFRESH, { token: first.refreshToken }));
    expect(replay.extensions?.code).toBe('UNAUTHENTICATED');
    expect(replay.message).toMatch(/already used/);
    expect(failure(await call(REFRESH, { token: third.refreshToken })).extensions?.code).toBe('UNAUTHENTICATED');
    expect(await platform.prisma.securityEvent.count({ where: { userId: first.user.id, kind: 'REFRESH_TOKEN_REUSED' } })).toBe(1);

    const a = ok<Tokens>(await logIn(first.email, first.password), 'logIn');
    const b = ok<Tokens>(await logIn(first.email, first.password), 'logIn');
    const other = await signUp();
    const revoke = 'mutation($id: ID!) { revokeSession(id: $id) }';
    expect(failure(await call(revoke, { id: claimsOf(b.accessToken).sid }, other.accessToken)).extensions?.code).toBe('NOT_FOUND');
    expect(ok(await call(revoke, { id: claimsOf(b.accessToken).sid }, a.accessToken), 'revokeSession')).toBe(true);
    expect(failure(await call(REFRESH, { token: b.refreshToken })).extensions?.code).toBe('UNAUTHENTICATED');
    ok<Tokens>(await call(REFRESH, { token: other.refreshToken }), 'refreshSession');

    const c = ok<Tokens>(await logIn(first.email, first.password), 'logIn');
    expect(ok(await call('mutation { logOutEverywhere }', {}, a.accessToken), 'logOutEverywhere')).toBe(true);
    for (const tokens of [a, c]) expect(failure(await call(REFRESH, { token: tokens.refreshToken })).extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('signing keys', () => {
  it('rotates: old tokens verify during the overlap, new ones carry the new kid, a retired key is out of the JWKS', async () => {
    const user = await signUp();
    const oldKid = kidOf(user.accessToken)!;
    const freshVerifier = () => createTokenVerifier({ jwksUrl: platform.jwksUrl, issuer: platform.issuer, audience: platform.audience });
    expect(failure(await call('mutation { rotateSigningKey }', {}, user.accessToken)).extensions?.code).toBe('FORBIDDEN');

    const newKid = ok<string>(await call('mutation { rotateSigningKey }', {}, admin.accessToken), 'rotateSigningKey');
    expect(newKid).not.toBe(oldKid);
    const kids = async () => ((await (await fetch(platform.jwksUrl)).json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid);
    expect(await kids()).toEqual(expect.arrayContaining([oldKid, newKid]));
    await expect(freshVerifier().verify(user.accessToken)).resolves.toMatchObject({ userId: user.user.id });
    const after = ok<Tokens>(await logIn(user.email, user.password), 'logIn');
    expect(kidOf(after.accessToken)).toBe(newKid);

    // Another replica rotates (same database): this one signs with that key on the next sign-in.
    const replica = createTokenIssuer(createAuthStore(platform.prisma).signingKeys, {
      issuer: platform.issuer,
      audience: platform.audience,
      accessTokenTtlSeconds: 900,
      clock: platform.clock,
    });
    const { kid: replicaKid } = await replica.rotate();
    const fromReplicaKey = ok<Tokens>(await logIn(user.email, user.password), 'logIn');
    expect(kidOf(fromReplicaKey.accessToken)).toBe(replicaKid);

    // Past the overlap (TTL + 60 s) the periodic check retires the superseded keys.
    platform.clock.advance(961_000);
    const deadline = Date.now() + 10_000;
    while ((await kids()).includes(oldKid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await kids()).toEqual([replicaKid]);
    await expect(freshVerifier().verify(user.accessToken)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    await expect(freshVerifier().verify(fromReplicaKey.accessToken)).resolves.toMatchObject({ userId: user.user.id });
    expect(await platform.prisma.securityEvent.count({ where: { kind: { in: ['SIGNING_KEY_ROTATED', 'SIGNING_KEY_RETIRED'] } } })).toBeGreaterThanOrEqual(2);
  });
});

describe('TOTP', () => {
  it('matches the RFC 6238 SHA-1 test vectors (6 digits)', () => {
    const secret = Buffer.from('12345678901234567890');
    expect(totpAt(secret, new Date(59_000))).toBe('287082');
    expect(totpAt(secret, new Date(1_111_111_109_000))).toBe('081804');
    expect(totpAt(secret, new Date(1_234_567_890_000))).toBe('005924');
    expect(totpAt(secret, new Date(2_000_000_000_000))).toBe('279037');
  });

  it('enrols, asks for a code at log-in, accepts ±1 step once, refuses replays, and recovery codes work once', async () => {
    const user = await signUp();
    const enrollment = ok<{ secret: string; otpauthUri: string }>(
      await call('mutation { startMfaEnrollment { secret otpauthUri } }', {}, user.accessToken),
      'startMfaEnrollment',
    );
    expect(enrollment.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(enrollment.otpauthUri).toMatch(new RegExp(`^otpauth://totp/Meridian%3A.+\\?secret=${enrollment.secret}&issuer=Meridian&algorithm=SHA1&digits=6&period=30$`));
    const secret = base32Decode(enrollment.secret);
    const codeAt = (offsetSteps: number) => hotp(secret, timeStepAt(platform.clock.now()) + offsetSteps);
    const stored = await platform.prisma.identity.findUniqueOrThrow({ where: { id: user.user.id } });
    expect(stored.mfaPendingSecret).toMatch(/^v1\./);
    expect(stored.mfaPendingSecret).not.toContain(enrollment.secret);

    const CONFIRM = 'mutation($code: String!) { confirmMfaEnrollment(code: $code) }';
    expect(failure(await call(CONFIRM, { code: codeAt(3) }, user.accessToken)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'code' });
    const confirmedWith = codeAt(0);
    const recovery = ok<string[]>(await call(CONFIRM, { code: confirmedWith }, user.accessToken), 'confirmMfaEnrollment');
    expect(recovery).toHaveLength(10);
    expect(new Set(recovery).size).toBe(10);
    recovery.forEach(keep);
    const enabled = await platform.prisma.identity.findUniqueOrThrow({ where: { id: user.user.id } });
    expect(enabled.mfaSecret).toMatch(/^v1\./);
    const codeRows = await platform.prisma.recoveryCode.findMany({ where: { identityId: user.user.id } });
    expect(codeRows.some((row) => recovery.some((code) => row.codeHash.includes(code)))).toBe(false);

    const challenge = async () => {
      const result = ok<{ mfaRequired: boolean; accessToken: string | null; user: unknown; mfaChallenge: { mfaToken: string } }>(
        await logIn(user.email, user.password),
        'logIn',
      );
      expect(result).toMatchObject({ mfaRequired: true, accessToken: null, user: null });
      return result.mfaChallenge.mfaToken;
    };
    const verify = (mfaToken: string, input: { code?: string; recoveryCode?: string }) => call(VERIFY_MFA, { input: { mfaToken, ...input } });

    let mfaToken = await challenge();
    // The code used at confirmation is spent: replay refused.
    expect(failure(await verify(mfaToken, { code: confirmedWith })).extensions?.code).toBe('UNAUTHENTICATED');
    // One step ahead (clock drift) is accepted.
    platform.clock.advance(30_000);
    const aheadCode = codeAt(1);
    const signedIn = ok<Tokens>(await verify(mfaToken, { code: aheadCode }), 'verifyMfa');
    expect(claimsOf(signedIn.accessToken).sub).toBe(user.user.id);
    // The challenge is single use.
    expect(failure(await verify(mfaToken, { code: codeAt(0) })).extensions?.code).toBe('UNAUTHENTICATED');

    mfaToken = await challenge();
    // The current step is not after the last accepted one (a step ahead): refused.
    expect(failure(await verify(mfaToken, { code: codeAt(0) })).extensions?.code).toBe('UNAUTHENTICATED');
    platform.clock.advance(90_000);
    // Two steps behind: refused. One step behind: accepted.
    expect(failure(await verify(mfaToken, { code: codeAt(-2) })).extensions?.code).toBe('UNAUTHENTICATED');
    ok<Tokens>(await verify(mfaToken, { code: codeAt(-1) }), 'verifyMfa');

    mfaToken = await challenge();
    ok<Tokens>(await verify(mfaToken, { recoveryCode: recovery[0]! }), 'verifyMfa');
    mfaToken = await challenge();
    expect(failure(await verify(mfaToken, { recoveryCode: recovery[0]! })).extensions?.code).toBe('UNAUTHENTICATED');
    ok<Tokens>(await verify(mfaToken, { recoveryCode: recovery[1]!.toUpperCase().replace('-', '') }), 'verifyMfa');
    expect(await platform.prisma.securityEvent.count({ where: { userId: user.user.id, kind: 'MFA_RECOVERY_CODE_USED' } })).toBe(2);

    // With MFA on, 8 characters are enough for a new password.
    const short = 'kq7#Lz2!w';
    keep(short);
    const CHANGE = 'mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }';
    expect(ok(await call(CHANGE, { c: user.password, n: short }, signedIn.accessToken), 'changePassword')).toBe(true);

    const DISABLE = 'mutation($input: DisableMfaInput!) { disableMfa(input: $input) }';
    expect(failure(await call(DISABLE, { input: { password: 'not the right one' } }, signedIn.accessToken)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.password' });
    expect(ok(await call(DISABLE, { input: { password: short } }, signedIn.accessToken), 'disableMfa')).toBe(true);
    expect(ok<{ mfaRequired: boolean; accessToken: string }>(await logIn(user.email, short), 'logIn')).toMatchObject({ mfaRequired: false, accessToken: expect.any(String) });
    // Without MFA, 8 characters are not.
    const fresh = ok<Tokens>(await logIn(user.email, short), 'logIn');
    expect(failure(await call(CHANGE, { c: short, n: 'zq8#Lk3!v' }, fresh.accessToken)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'newPassword' });
  });

  it('throttles wrong codes like wrong passwords', async () => {
    const user = await signUp();
    const { secret } = ok<{ secret: string }>(await call('mutation { startMfaEnrollment { secret } }', {}, user.accessToken), 'startMfaEnrollment');
    ok(await call('mutation($code: String!) { confirmMfaEnrollment(code: $code) }', { code: totpAt(base32Decode(secret), platform.clock.now()) }, user.accessToken), 'confirmMfaEnrollment');
    const { mfaChallenge } = ok<{ mfaChallenge: { mfaToken: string } }>(await logIn(user.email, user.password), 'logIn');
    const wrongCode = (n: number) => String((Number(totpAt(base32Decode(secret), platform.clock.now())) + 500_000 + n) % 1_000_000).padStart(6, '0');
    for (let i = 0; i < 5; i += 1) {
      expect(failure(await call(VERIFY_MFA, { input: { mfaToken: mfaChallenge.mfaToken, code: wrongCode(i) } })).extensions?.code).toBe('UNAUTHENTICATED');
    }
    const refused = failure(await call(VERIFY_MFA, { input: { mfaToken: mfaChallenge.mfaToken, code: totpAt(base32Decode(secret), platform.clock.now()) } }));
    expect(refused.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 2 });
    expect(await platform.prisma.securityEvent.count({ where: { userId: user.user.id, kind: 'MFA_FAILED' } })).toBe(5);
  });
});

describe('password change and reset', () => {
  const CHANGE = 'mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }';
  const RESET = 'mutation($t: String!, $n: String!) { resetPassword(token: $t, newPassword: $n) }';
  const REQUEST = 'mutation($e: String!) { requestPasswordReset(email: $e) }';

  it('changePassword checks the current password and the new one, and ends every other session', async () => {
    const user = await signUp();
    const other = ok<Tokens>(await logIn(user.email, user.password), 'logIn');
    const next = password();
    keep(next);
    keep('wrong current one');
    expect(failure(await call(CHANGE, { c: 'wrong current one', n: next }, user.accessToken)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'currentPassword' });
    expect(failure(await call(CHANGE, { c: user.password, n: 'iloveyou1234' }, user.accessToken)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'newPassword' });
    expect(failure(await call(CHANGE, { c: user.password, n: 'y'.repeat(1025) }, user.accessToken)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'newPassword' });
    expect(ok(await call(CHANGE, { c: user.password, n: next }, user.accessToken), 'changePassword')).toBe(true);

    expect(failure(await call(REFRESH, { token: other.refreshToken })).extensions?.code).toBe('UNAUTHENTICATED');
    ok<Tokens>(await call(REFRESH, { token: user.refreshToken }), 'refreshSession');
    expect(failure(await logIn(user.email, user.password)).extensions?.code).toBe('UNAUTHENTICATED');
    ok<Tokens>(await logIn(user.email, next), 'logIn');
    expect(await platform.prisma.securityEvent.count({ where: { userId: user.user.id, kind: 'PASSWORD_CHANGED' } })).toBe(1);
  });

  it('reset: always true, a single-use 30-minute token delivered out of band, ends all sessions and lifts a lockout', async () => {
    const user = await signUp();
    const before = (await platform.resetMessages()).length;
    const response = await call(REQUEST, { e: `nobody.${unique()}@example.com` });
    expect(response.data).toEqual({ requestPasswordReset: true });
    expect(await platform.resetMessages()).toHaveLength(before);

    const requested = await call(REQUEST, { e: user.email.toUpperCase() });
    expect(requested.data).toEqual({ requestPasswordReset: true });
    const messages = await platform.resetMessages();
    expect(messages).toHaveLength(before + 1);
    const message = messages.at(-1)!;
    keep(message.token);
    expect(message).toMatchObject({ userId: user.user.id, email: user.email });
    expect(JSON.stringify(requested)).not.toContain(message.token);
    const row = await platform.prisma.passwordResetToken.findFirstOrThrow({ where: { identityId: user.user.id } });
    expect(row.tokenHash).not.toContain(message.token);
    expect(row.expiresAt.getTime() - row.createdAt.getTime()).toBe(30 * 60 * 1000);
    expect(message.expiresAt.getTime()).toBe(row.expiresAt.getTime());

    // Hard-lock the account first.
    const wrong = `${user.password}#`;
    keep(wrong);
    const aliases = Array.from({ length: 20 }, (_, i) => `a${i}: logIn(input: { email: $email, password: $password }) { accessToken }`).join('\n');
    await call(`mutation($email: String!, $password: String!) {\n${aliases}\n}`, { email: user.email, password: wrong });
    expect((await throttleOf(user.email))?.lockedOutAt).toEqual(expect.any(Date));

    expect(failure(await call(RESET, { t: message.token, n: 'password123456' })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'newPassword' });
    const next = password();
    keep(next);
    expect(ok(await call(RESET, { t: message.token, n: next }), 'resetPassword')).toBe(true);
    expect(failure(await call(RESET, { t: message.token, n: password() })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'token' });
    expect(failure(await call(REFRESH, { token: user.refreshToken })).extensions?.code).toBe('UNAUTHENTICATED');
    expect(await throttleOf(user.email)).toBeNull();
    ok<Tokens>(await logIn(user.email, next), 'logIn');

    // An expired token does not work.
    platform.clock.advance(61_000);
    await call(REQUEST, { e: user.email });
    const late = (await platform.resetMessages()).at(-1)!;
    keep(late.token);
    expect(late.token).not.toBe(message.token);
    platform.clock.advance(30 * 60 * 1000 + 1000);
    expect(failure(await call(RESET, { t: late.token, n: password() })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'token' });
  });
});

describe('roles and the audit log', () => {
  it('bootstraps ADMIN from BOOTSTRAP_ADMIN_EMAILS; setUserRoles is ADMIN only and new tokens carry the roles', async () => {
    expect(claimsOf(admin.accessToken).roles).toEqual(['ADMIN']);
    const user = await signUp();
    expect(claimsOf(user.accessToken).roles).toEqual(['MEMBER']);
    const SET = 'mutation($id: ID!, $roles: [Role!]!) { setUserRoles(userId: $id, roles: $roles) { user { id } roles } }';
    expect(failure(await call(SET, { id: user.user.id, roles: ['ADMIN'] }, user.accessToken)).extensions?.code).toBe('FORBIDDEN');
    expect(failure(await call(SET, { id: user.user.id, roles: [] }, admin.accessToken)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'roles' });
    expect(failure(await call(SET, { id: admin.user.id, roles: ['MEMBER'] }, admin.accessToken)).extensions?.code).toBe('CONFLICT');
    expect(ok(await call(SET, { id: user.user.id, roles: ['VIEWER'] }, admin.accessToken), 'setUserRoles')).toEqual({ user: { id: user.user.id }, roles: ['VIEWER'] });
    const refreshed = ok<Tokens>(await call(REFRESH, { token: user.refreshToken }), 'refreshSession');
    expect(claimsOf(refreshed.accessToken)).toMatchObject({ roles: ['VIEWER'], scope: 'tasks:read users:read' });
  });

  it('tells the user subgraph: auth.roles-changed is in the outbox and User.roles follows', async () => {
    // The bootstrap admin's sign-up wrote auth.user-registered, then auth.roles-changed (same aggregate, in order).
    const adminEvents = (await platform.prisma.outboxEvent.findMany({ where: { aggregateId: admin.user.id }, orderBy: { id: 'asc' } })).map(
      (row) => row.type,
    );
    expect(adminEvents.slice(0, 2)).toEqual(['auth.user-registered', 'auth.roles-changed']);
    expect((await platform.outbox('auth.roles-changed')).find((row) => row.aggregateId === admin.user.id)?.payload).toEqual({
      userId: admin.user.id,
      roles: ['ADMIN'],
      previousRoles: ['MEMBER'],
      actorId: null,
    });
    const rolesOf = async (token: string) => {
      const result = await graphql(platform.userUrl, '{ me { roles } }', { token });
      expect(result.errors).toBeUndefined();
      return (result.data as { me: { roles: string[] } | null }).me?.roles;
    };
    // A fresh token: the one from beforeAll may be signed by a key an earlier test retired.
    const adminToken = ok<Tokens>(await logIn(admin.email, admin.password), 'logIn').accessToken;
    await eventually(async () => expect(await rolesOf(adminToken)).toEqual(['ADMIN']));

    const user = await signUp();
    expect(await rolesOf(user.accessToken)).toEqual(['MEMBER']);
    const SET = 'mutation($id: ID!, $roles: [Role!]!) { setUserRoles(userId: $id, roles: $roles) { roles } }';
    ok(await call(SET, { id: user.user.id, roles: ['VIEWER', 'MEMBER'] }, adminToken), 'setUserRoles');
    expect((await platform.outbox('auth.roles-changed')).filter((row) => row.aggregateId === user.user.id).map((row) => row.payload)).toEqual([
      { userId: user.user.id, roles: ['VIEWER', 'MEMBER'], previousRoles: ['MEMBER'], actorId: admin.user.id },
    ]);
    await eventually(async () => expect(await rolesOf(user.accessToken)).toEqual(['VIEWER', 'MEMBER']));
  });

  it('auditLog: ADMIN only, newest first, filtered by user and kind, paginated', async () => {
    const user = await signUp();
    await logIn(user.email, 'definitely wrong 1');
    await logIn(user.email, 'definitely wrong 2');
    keep('definitely wrong 1');
    keep('definitely wrong 2');
    ok(await logIn(user.email, user.password), 'logIn');
    const AUDIT = `query($first: Int, $after: String, $userId: ID, $kind: SecurityEventKind) {
      auditLog(first: $first, after: $after, userId: $userId, kind: $kind) { edges { cursor node { kind userId ip userAgent at details } } pageInfo { hasNextPage endCursor } } }`;
    expect(failure(await call(AUDIT, {}, user.accessToken)).extensions?.code).toBe('FORBIDDEN');
    type Page = { edges: { node: { kind: string; userId: string; details: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } };
    const all = ok<Page>(await call(AUDIT, { userId: user.user.id }, admin.accessToken), 'auditLog');
    expect(all.edges.map((edge) => edge.node.kind)).toEqual(['LOGIN_SUCCEEDED', 'LOGIN_FAILED', 'LOGIN_FAILED']);
    expect(JSON.parse(all.edges[1]!.node.details)).toEqual({ failures: 2 });
    const first = ok<Page>(await call(AUDIT, { userId: user.user.id, kind: 'LOGIN_FAILED', first: 1 }, admin.accessToken), 'auditLog');
    expect(first.edges).toHaveLength(1);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = ok<Page>(await call(AUDIT, { userId: user.user.id, kind: 'LOGIN_FAILED', first: 1, after: first.pageInfo.endCursor }, admin.accessToken), 'auditLog');
    expect(JSON.parse(second.edges[0]!.node.details)).toEqual({ failures: 1 });
    expect(second.pageInfo.hasNextPage).toBe(false);
  });
});

describe('events are written in the transaction of the change', () => {
  it('a change that rolls back leaves no auth.roles-changed and no auth.password-reset-requested behind', async () => {
    const user = await signUp();
    const store = createAuthStore(platform.prisma);
    const count = (type: string) => platform.prisma.outboxEvent.count({ where: { type, aggregateId: user.user.id } });
    const failAfter = (write: (tx: unknown) => Promise<void>) => async (tx: unknown) => {
      await write(tx);
      throw new Error('rolled back after the event was written');
    };

    await expect(
      store.setRoles(
        user.user.id,
        ['VIEWER'],
        failAfter((tx) => recordRolesChanged(tx, { userId: user.user.id, roles: ['VIEWER'], previousRoles: ['MEMBER'], actorId: admin.user.id })),
      ),
    ).rejects.toThrow('rolled back');
    expect((await platform.prisma.identity.findUniqueOrThrow({ where: { id: user.user.id } })).roles).toEqual(['MEMBER']);
    expect(await count('auth.roles-changed')).toBe(0);

    const token = `rolled-back-${randomUUID()}`;
    keep(token);
    const reset = { id: randomUUID(), identityId: user.user.id, tokenHash: `hash-${randomUUID()}`, createdAt: new Date(), expiresAt: new Date(Date.now() + 60_000) };
    await expect(
      store.createPasswordReset(
        reset,
        failAfter((tx) => createPasswordResetDelivery()(tx, { userId: user.user.id, email: user.email, token, expiresAt: reset.expiresAt })),
      ),
    ).rejects.toThrow('rolled back');
    expect(await platform.prisma.passwordResetToken.count({ where: { identityId: user.user.id } })).toBe(0);
    expect(await count('auth.password-reset-requested')).toBe(0);

    // The same writers on a transaction that commits: both rows are there, with the change.
    await store.setRoles(user.user.id, ['VIEWER'], (tx) =>
      recordRolesChanged(tx, { userId: user.user.id, roles: ['VIEWER'], previousRoles: ['MEMBER'], actorId: admin.user.id }),
    );
    expect(await count('auth.roles-changed')).toBe(1);
  });
});

describe('secrets', () => {
  it('a published auth.password-reset-requested row no longer holds its token (the delivered event did)', async () => {
    const user = await signUp();
    expect((await call(`mutation($e: String!) { requestPasswordReset(email: $e) }`, { e: user.email })).data).toEqual({ requestPasswordReset: true });
    const message = (await platform.resetMessages()).filter((m) => m.userId === user.user.id).at(-1)!;
    keep(message.token);
    expect(message.token.length).toBeGreaterThan(20);
    const row = await eventually(async () => {
      const rows = await platform.prisma.outboxEvent.findMany({ where: { type: 'auth.password-reset-requested', aggregateId: user.user.id } });
      const published = rows.find((candidate) => candidate.publishedAt !== null && !('token' in (candidate.payload as object)));
      if (!published) throw new Error('the reset row is not published and scrubbed yet');
      return published;
    }, 20_000);
    expect(row.payload).toEqual({ userId: user.user.id, email: user.email, expiresAt: message.expiresAt.toISOString() });
    expect(JSON.stringify(await platform.prisma.outboxEvent.findMany())).not.toContain(message.token);
  });

  it('never appear in the logs, the audit log or an error message', async () => {
    const events = await platform.prisma.securityEvent.findMany();
    const places = { logs: platform.logs.text(), audit: JSON.stringify(events), errors: errorMessages.join('\n') };
    expect(platform.logs.entries().length).toBeGreaterThan(0);
    expect(secrets.size).toBeGreaterThan(40);
    // Every kind is in the set: passwords, access and refresh tokens, TOTP secrets, recovery codes, reset tokens.
    expect([...secrets].some((secret) => /^[A-Z2-7]{16,}$/.test(secret))).toBe(true);
    expect([...secrets].filter((secret) => secret.split('.').length === 3).length).toBeGreaterThan(5);
    for (const [where, text] of Object.entries(places)) {
      expect({ where, leaked: [...secrets].filter((secret) => text.includes(secret)) }).toEqual({ where, leaked: [] });
    }
  });
});
