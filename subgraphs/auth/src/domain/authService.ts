import { createHash, randomBytes } from 'node:crypto';
import { ulid } from 'ulid';
import { badUserInput, conflict, createError, notFound, unauthenticated } from '@meridian/errors';
import { pageArgs, toConnection } from '@meridian/service-kit';
import type { AuthStore, NewSession, ThrottlePolicy, ThrottleState } from '../data/authStore';
import { systemClock, type Clock } from './clock';
import { checkPasswordSize, normalizeEmail, validatePassword, validateSignUp } from './credentials';
import { hashPassword, verifyPassword } from './passwords';
import type { SecretBox } from './secretBox';
import type { Role } from '@meridian/tokens';
import { ROLES, type TokenIssuer } from './signingKeys';
import { base32Encode, generateTotpSecret, matchTotp, otpauthUri } from './totp';

export const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;
export const PASSWORD_RESET_TTL_MS = 30 * 60 * 1000;
/** A second reset request for one account within this time sends nothing (still answers true). */
export const PASSWORD_RESET_MIN_INTERVAL_MS = 60 * 1000;
export const MFA_CHALLENGE_TTL_MS = 5 * 60 * 1000;
export const RECOVERY_CODE_COUNT = 10;
/** 5th consecutive failure: 1 s, then 2 s, 4 s, ... (at most 15 min); 20th: locked until unlocked or reset. */
export const THROTTLE_POLICY: ThrottlePolicy = { backoffFrom: 5, maxBackoffSeconds: 15 * 60, hardLockAt: 20 };

/** A User as this subgraph knows it: the id, and the email where it provides it. */
export interface UserReference {
  id: string;
  email?: string;
}

/** What signUp / verifyMfa / refreshSession return (mapped to AuthPayload). */
export interface AuthResult {
  accessToken: string;
  refreshToken: string;
  expiresAt: Date;
  /** The email is provided to the gateway (@provides) so the caller sees their own. */
  user: { __typename: 'User'; id: string; email: string };
}

/** What logIn returns (mapped to LogInResult): tokens, or an MFA challenge. */
export type LogInOutcome =
  | (AuthResult & { mfaRequired: false; mfaChallenge: null })
  | { mfaRequired: true; mfaChallenge: { mfaToken: string; expiresAt: Date }; accessToken: null; refreshToken: null; expiresAt: null; user: null };

export interface Device {
  userAgent?: string;
  ip?: string;
}

export interface Registration {
  userId: string;
  email: string;
  displayName: string;
}

/** What the notification channel needs to email a reset link. Holds the raw token: never log it. */
export interface PasswordResetMessage {
  userId: string;
  email: string;
  token: string;
  expiresAt: Date;
}

export interface RolesChange {
  userId: string;
  roles: string[];
  previousRoles: string[];
  actorId: string | null;
}

export interface AuthServiceDeps {
  store: AuthStore;
  issuer: TokenIssuer;
  /**
   * Records that an account was registered, inside the account's transaction (outbox),
   * so the profile is created if and only if the account exists.
   */
  recordRegistration: (tx: unknown, registration: Registration) => Promise<void>;
  /** Records a log-in (`auth.signed-in`) inside the new session's transaction. */
  recordSignIn: (tx: unknown, signIn: { userId: string; sessionId: string }) => Promise<void>;
  /** Hands a reset token to the notification channel, inside the token's transaction. */
  deliverPasswordReset: (tx: unknown, message: PasswordResetMessage) => Promise<void>;
  /** Tells other services (the user subgraph's roles) that roles changed, inside the change's transaction. */
  recordRolesChanged: (tx: unknown, change: RolesChange) => Promise<void>;
  /** Resolves once the user subgraph has the profile (or after a timeout: it will still arrive). */
  waitForProfile: (userId: string) => { ready: Promise<void>; cancel(): void };
  /** Wakes the outbox relay so the event leaves now rather than at the next poll. */
  afterCommit: () => void;
  /** Encrypts TOTP secrets at rest. */
  secrets: SecretBox;
  /** Emails (lower-case) that get ADMIN when they sign up. */
  bootstrapAdminEmails?: ReadonlySet<string>;
  /** Shown by authenticator apps next to the account. */
  totpIssuer?: string;
  clock?: Clock;
}

const INVALID_LOGIN = 'Invalid email or password.';
const INVALID_CODE = 'Invalid code.';
const INVALID_CHALLENGE = 'Invalid or expired MFA challenge; log in again.';

export function createAuthService(deps: AuthServiceDeps) {
  const { store } = deps;
  const clock = deps.clock ?? systemClock;
  const bootstrapAdmins = deps.bootstrapAdminEmails ?? new Set<string>();

  function newRefreshToken() {
    const token = randomBytes(32).toString('base64url');
    return { token, hash: sha256(token), id: ulid() };
  }

  async function issue(identity: { id: string; email: string; roles: string[] }, sessionId: string, refreshToken: string): Promise<AuthResult> {
    const access = await deps.issuer.sign({ userId: identity.id, roles: identity.roles, sessionId });
    return {
      accessToken: access.token,
      expiresAt: access.expiresAt,
      refreshToken,
      user: { __typename: 'User', id: identity.id, email: identity.email },
    };
  }

  function newSession(identityId: string, device: Device, refresh: { id: string; hash: string }): NewSession {
    return {
      id: ulid(),
      identityId,
      userAgent: device.userAgent?.slice(0, 512),
      ip: device.ip,
      expiresAt: new Date(clock.now().getTime() + SESSION_TTL_MS),
      refreshTokenId: refresh.id,
      refreshTokenHash: refresh.hash,
    };
  }

  async function startSession(identity: { id: string; email: string; roles: string[] }, device: Device, details: Record<string, unknown>): Promise<AuthResult> {
    await store.clearFailures(identity.email);
    const refresh = newRefreshToken();
    const session = newSession(identity.id, device, refresh);
    await store.createSession(session, (tx) => deps.recordSignIn(tx, { userId: identity.id, sessionId: session.id }));
    deps.afterCommit();
    await audit('LOGIN_SUCCEEDED', { userId: identity.id, device, details: { sessionId: session.id, ...details } });
    return issue(identity, session.id, refresh.token);
  }

  /** Appends to the security audit log. Callers pass facts only, never a secret. */
  async function audit(kind: string, entry: { userId?: string | null; actorId?: string | null; device?: Device; details?: Record<string, unknown> }) {
    await store.recordSecurityEvent({
      id: ulid(),
      kind,
      userId: entry.userId ?? null,
      actorId: entry.actorId ?? null,
      ip: entry.device?.ip?.slice(0, 100) ?? null,
      userAgent: entry.device?.userAgent?.slice(0, 512) ?? null,
      at: clock.now(),
      details: entry.details ?? {},
    });
  }

  function lockedError(state: ThrottleState) {
    if (state.lockedOutAt) {
      return createError('RATE_LIMITED', 'Too many failed attempts: this account is locked. Reset the password or ask an administrator to unlock it.', {
        locked: true,
      });
    }
    const retryAfter = Math.max(1, Math.ceil(((state.lockedUntil?.getTime() ?? 0) - clock.now().getTime()) / 1000));
    return createError('RATE_LIMITED', `Too many failed attempts; try again in ${retryAfter} seconds.`, { retryAfter });
  }

  const isLocked = (state: ThrottleState | null) =>
    !!state && (state.lockedOutAt !== null || (state.lockedUntil !== null && state.lockedUntil > clock.now()));

  /** Counts one failed attempt (password or code) and audits the lock it may cause. */
  async function countFailure(email: string, kind: 'LOGIN_FAILED' | 'MFA_FAILED' | 'LOGIN_REFUSED_LOCKED', userId: string | null, device: Device) {
    const state = await store.recordFailure(email, clock.now(), THROTTLE_POLICY);
    await audit(kind, { userId, device, details: { failures: state.failures, ...(userId ? {} : { email }) } });
    if (state.failures === THROTTLE_POLICY.hardLockAt) {
      await audit('ACCOUNT_LOCKED', { userId, device, details: { failures: state.failures, hard: true, ...(userId ? {} : { email }) } });
    } else if (state.failures === THROTTLE_POLICY.backoffFrom) {
      await audit('ACCOUNT_LOCKED', { userId, device, details: { failures: state.failures, lockedUntil: state.lockedUntil?.toISOString() } });
    }
    return state;
  }

  /**
   * Refuses an attempt on a locked account before any password or code is looked at; the
   * refused attempt still counts (so hammering a locked account only lengthens the lock).
   */
  async function refuseIfLocked(email: string, userId: string | null, device: Device) {
    if (!isLocked(await store.getThrottle(email))) return;
    const state = await countFailure(email, 'LOGIN_REFUSED_LOCKED', userId, device);
    throw lockedError(state);
  }

  async function checkTotp(identity: { id: string; mfaSecret: string | null }, code: string): Promise<boolean> {
    if (!identity.mfaSecret) return false;
    const secret = deps.secrets.open(identity.mfaSecret, identity.id);
    const step = matchTotp(secret, code.trim(), clock.now());
    return step !== undefined && (await store.useTimeStep(identity.id, step));
  }

  async function requireIdentity(userId: string) {
    const identity = await store.findIdentityById(userId);
    if (!identity) throw unauthenticated();
    return identity;
  }

  return {
    async signUp(input: { email: string; password: string; displayName: string }, device: Device): Promise<AuthResult> {
      const { email, password, displayName } = validateSignUp(input);
      const passwordHash = await hashPassword(password);
      const userId = ulid();
      const roles = bootstrapAdmins.has(email) ? ['ADMIN'] : ['MEMBER'];
      const refresh = newRefreshToken();
      const session = newSession(userId, device, refresh);
      // Listen before committing so the profile-created event cannot slip past us.
      const profile = deps.waitForProfile(userId);
      let created: boolean;
      try {
        created = await store.createAccount({
          identity: { id: userId, email, passwordHash, roles },
          session,
          writeEvents: async (tx) => {
            await deps.recordRegistration(tx, { userId, email, displayName });
            if (roles.includes('ADMIN')) await deps.recordRolesChanged(tx, { userId, roles, previousRoles: ['MEMBER'], actorId: null });
          },
        });
      } catch (error) {
        profile.cancel();
        throw error;
      }
      if (!created) {
        profile.cancel();
        throw conflict('input.email: an account with this email already exists.', { field: 'input.email' });
      }
      deps.afterCommit();
      if (roles.includes('ADMIN')) await audit('ROLES_CHANGED', { userId, device, details: { roles, bootstrap: true } });
      await profile.ready;
      return issue({ id: userId, email, roles }, session.id, refresh.token);
    },

    async logIn(input: { email: string; password: string }, device: Device): Promise<LogInOutcome> {
      checkPasswordSize(input.password);
      let email: string | undefined;
      try {
        email = normalizeEmail(input.email);
      } catch {
        email = undefined; // a malformed email is just an unknown one: same answer, same cost
      }
      if (!email) {
        await verifyPassword(undefined, input.password);
        throw unauthenticated(INVALID_LOGIN);
      }
      const identity = await store.findIdentityByEmail(email);
      await refuseIfLocked(email, identity?.id ?? null, device);
      const ok = await verifyPassword(identity?.passwordHash, input.password);
      if (!identity || !ok) {
        await countFailure(email, 'LOGIN_FAILED', identity?.id ?? null, device);
        throw unauthenticated(INVALID_LOGIN);
      }
      if (identity.mfaSecret) {
        // The password was right; the failure counter stays until the code is right too, so
        // a stolen password does not buy unlimited code guesses.
        const mfaToken = randomBytes(32).toString('base64url');
        const now = clock.now();
        const expiresAt = new Date(now.getTime() + MFA_CHALLENGE_TTL_MS);
        await store.createMfaChallenge({
          id: ulid(),
          identityId: identity.id,
          tokenHash: sha256(mfaToken),
          userAgent: device.userAgent?.slice(0, 512),
          ip: device.ip,
          createdAt: now,
          expiresAt,
        });
        return { mfaRequired: true, mfaChallenge: { mfaToken, expiresAt }, accessToken: null, refreshToken: null, expiresAt: null, user: null };
      }
      return { ...(await startSession(identity, device, { mfa: false })), mfaRequired: false, mfaChallenge: null };
    },

    async verifyMfa(input: { mfaToken: string; code?: string | null; recoveryCode?: string | null }, device: Device): Promise<AuthResult> {
      const code = input.code ?? undefined;
      const recoveryCode = input.recoveryCode ?? undefined;
      if ((code === undefined) === (recoveryCode === undefined)) throw badUserInput('input.code', 'give exactly one of code and recoveryCode.');
      if (input.mfaToken.length === 0 || input.mfaToken.length > 200) throw unauthenticated(INVALID_CHALLENGE);
      const challenge = await store.findMfaChallenge(sha256(input.mfaToken));
      if (!challenge || challenge.usedAt || challenge.expiresAt <= clock.now() || !challenge.identity.mfaSecret) throw unauthenticated(INVALID_CHALLENGE);
      const { identity } = challenge;
      await refuseIfLocked(identity.email, identity.id, device);
      const ok =
        code !== undefined
          ? await checkTotp(identity, code)
          : recoveryCode!.length <= 64 && (await store.useRecoveryCode(identity.id, hashRecoveryCode(recoveryCode!), clock.now()));
      if (!ok) {
        await countFailure(identity.email, 'MFA_FAILED', identity.id, device);
        throw unauthenticated(INVALID_CODE);
      }
      if (!(await store.spendMfaChallenge(challenge.id, clock.now()))) throw unauthenticated(INVALID_CHALLENGE);
      if (recoveryCode !== undefined) await audit('MFA_RECOVERY_CODE_USED', { userId: identity.id, device });
      return startSession(identity, device, { mfa: code !== undefined ? 'totp' : 'recovery-code' });
    },

    async refreshSession(refreshToken: string, device: Device = {}): Promise<AuthResult> {
      if (refreshToken.length === 0 || refreshToken.length > 200) throw unauthenticated('Invalid refresh token.');
      const next = newRefreshToken();
      const outcome = await store.rotateRefreshToken(sha256(refreshToken), next, clock.now());
      if (outcome.kind === 'reused') {
        await audit('REFRESH_TOKEN_REUSED', { userId: outcome.identityId, device, details: { sessionId: outcome.sessionId } });
        throw createError('UNAUTHENTICATED', 'Refresh token was already used; the session has been revoked. Sign in again.');
      }
      if (outcome.kind === 'invalid') throw unauthenticated('Invalid refresh token.');
      return issue(outcome.identity, outcome.session.id, next.token);
    },

    async logOut(userId: string, sessionId: string | undefined): Promise<boolean> {
      if (sessionId) await store.revokeSession(sessionId, userId, 'log out', clock.now());
      return true;
    },

    async logOutEverywhere(userId: string, device: Device): Promise<boolean> {
      const count = await store.revokeSessions(userId, clock.now(), 'log out everywhere');
      await audit('SIGNED_OUT_EVERYWHERE', { userId, device, details: { revokedSessions: count } });
      return true;
    },

    async revokeSession(userId: string, sessionId: string, device: Device): Promise<boolean> {
      if (!(await store.revokeSession(sessionId, userId, 'revoked by user', clock.now()))) throw notFound('Session', sessionId);
      await audit('SESSION_REVOKED', { userId, device, details: { sessionId } });
      return true;
    },

    listSessions: (userId: string) => store.listSessions(userId, clock.now()),

    /**
     * Whether access tokens of this account may still be used: false once the account is gone
     * (deleted) or hard-locked. Verifiers ask this (cached briefly) besides checking signatures.
     * A temporary backoff does not count: it refuses log-ins, not existing sessions.
     */
    async isSubjectActive(userId: string): Promise<boolean> {
      const identity = await store.findIdentityById(userId);
      if (!identity) return false;
      return !(await store.getThrottle(identity.email))?.lockedOutAt;
    },

    async mfaEnabled(userId: string): Promise<boolean> {
      return !!(await store.findIdentityById(userId))?.mfaSecret;
    },

    async changePassword(viewer: { userId: string; sessionId?: string }, currentPassword: string, newPassword: string, device: Device): Promise<boolean> {
      checkPasswordSize(currentPassword, 'currentPassword');
      checkPasswordSize(newPassword, 'newPassword');
      const identity = await requireIdentity(viewer.userId);
      await refuseIfLocked(identity.email, identity.id, device);
      if (!(await verifyPassword(identity.passwordHash, currentPassword))) {
        await countFailure(identity.email, 'LOGIN_FAILED', identity.id, device);
        throw badUserInput('currentPassword', 'is not correct.');
      }
      validatePassword(newPassword, 'newPassword', { mfaEnabled: !!identity.mfaSecret, email: identity.email });
      await store.setPassword(identity.id, await hashPassword(newPassword), clock.now(), 'password changed', viewer.sessionId);
      await audit('PASSWORD_CHANGED', { userId: identity.id, device });
      return true;
    },

    async requestPasswordReset(rawEmail: string, device: Device): Promise<boolean> {
      let email: string;
      try {
        email = normalizeEmail(rawEmail, 'email');
      } catch {
        return true;
      }
      const identity = await store.findIdentityByEmail(email);
      if (!identity) return true;
      const now = clock.now();
      const latest = await store.latestPasswordResetAt(identity.id);
      if (latest && now.getTime() - latest.getTime() < PASSWORD_RESET_MIN_INTERVAL_MS) return true;
      const token = randomBytes(32).toString('base64url');
      const expiresAt = new Date(now.getTime() + PASSWORD_RESET_TTL_MS);
      await store.createPasswordReset({ id: ulid(), identityId: identity.id, tokenHash: sha256(token), createdAt: now, expiresAt }, (tx) =>
        deps.deliverPasswordReset(tx, { userId: identity.id, email: identity.email, token, expiresAt }),
      );
      deps.afterCommit();
      await audit('PASSWORD_RESET_REQUESTED', { userId: identity.id, device });
      return true;
    },

    async resetPassword(token: string, newPassword: string, device: Device): Promise<boolean> {
      checkPasswordSize(newPassword, 'newPassword');
      if (token.length === 0 || token.length > 200) throw badUserInput('token', 'is invalid or expired.');
      // Checked before the token is spent, so a rejected password does not burn the link.
      const pending = await store.findPasswordReset(sha256(token), clock.now());
      if (!pending) throw badUserInput('token', 'is invalid or expired.');
      validatePassword(newPassword, 'newPassword', { mfaEnabled: !!pending.mfaSecret, email: pending.email });
      const passwordHash = await hashPassword(newPassword);
      const identity = await store.spendPasswordReset(sha256(token), clock.now());
      if (!identity) throw badUserInput('token', 'is invalid or expired.');
      await store.setPassword(identity.id, passwordHash, clock.now(), 'password reset');
      const wasLocked = await store.unlock(identity.email);
      await audit('PASSWORD_RESET', { userId: identity.id, device, details: { unlocked: wasLocked } });
      return true;
    },

    async startMfaEnrollment(userId: string): Promise<{ secret: string; otpauthUri: string }> {
      const identity = await requireIdentity(userId);
      if (identity.mfaSecret) throw conflict('MFA is already on; disable it first to enrol a new authenticator.');
      const secret = generateTotpSecret();
      await store.setPendingMfaSecret(identity.id, deps.secrets.seal(secret, identity.id));
      return { secret: base32Encode(secret), otpauthUri: otpauthUri(secret, identity.email, deps.totpIssuer ?? 'Meridian') };
    },

    async confirmMfaEnrollment(userId: string, code: string, device: Device): Promise<string[]> {
      const identity = await requireIdentity(userId);
      if (identity.mfaSecret) throw conflict('MFA is already on.');
      if (!identity.mfaPendingSecret) throw badUserInput('code', 'no enrolment in progress; call startMfaEnrollment first.');
      const step = matchTotp(deps.secrets.open(identity.mfaPendingSecret, identity.id), code.trim(), clock.now());
      if (step === undefined) throw badUserInput('code', 'is not the current code of the authenticator.');
      const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
      const enabled = await store.enableMfa(identity.id, {
        secret: identity.mfaPendingSecret,
        timeStep: step,
        recoveryCodes: codes.map((recovery) => ({ id: ulid(), codeHash: hashRecoveryCode(recovery) })),
        now: clock.now(),
      });
      if (!enabled) throw conflict('The enrolment changed meanwhile; start again.');
      await audit('MFA_ENROLLED', { userId: identity.id, device });
      return codes;
    },

    async disableMfa(userId: string, input: { code?: string | null; password?: string | null }, device: Device): Promise<boolean> {
      const code = input.code ?? undefined;
      const password = input.password ?? undefined;
      if ((code === undefined) === (password === undefined)) throw badUserInput('input.code', 'give exactly one of code and password.');
      if (password !== undefined) checkPasswordSize(password);
      const identity = await requireIdentity(userId);
      if (!identity.mfaSecret) throw conflict('MFA is not on.');
      await refuseIfLocked(identity.email, identity.id, device);
      const ok = code !== undefined ? await checkTotp(identity, code) : await verifyPassword(identity.passwordHash, password!);
      if (!ok) {
        await countFailure(identity.email, 'MFA_FAILED', identity.id, device);
        throw badUserInput(code !== undefined ? 'input.code' : 'input.password', 'is not correct.');
      }
      await store.disableMfa(identity.id, clock.now());
      await audit('MFA_DISABLED', { userId: identity.id, device, details: { with: code !== undefined ? 'code' : 'password' } });
      return true;
    },

    async setUserRoles(actorId: string, userId: string, roles: string[], device: Device) {
      const wanted = [...new Set(roles)];
      if (wanted.length === 0) throw badUserInput('roles', 'must name at least one role.');
      if (wanted.some((role) => !ROLES.includes(role))) throw badUserInput('roles', `must be among ${ROLES.join(', ')}.`);
      const current = await store.findIdentityById(userId);
      if (!current) throw notFound('User', userId);
      if (current.roles.includes('ADMIN') && !wanted.includes('ADMIN') && (await store.countAdmins()) <= 1) {
        throw conflict('roles: this is the last admin; make someone else ADMIN first.', { field: 'roles' });
      }
      const updated = await store.setRoles(userId, wanted, (tx) =>
        deps.recordRolesChanged(tx, { userId, roles: wanted, previousRoles: current.roles, actorId }),
      );
      if (!updated) throw notFound('User', userId);
      deps.afterCommit();
      await audit('ROLES_CHANGED', { userId, actorId, device, details: { from: current.roles, to: wanted } });
      return { user: { __typename: 'User' as const, id: userId }, roles: updated.roles as Role[] };
    },

    async unlockAccount(actorId: string, userId: string, device: Device): Promise<boolean> {
      const identity = await store.findIdentityById(userId);
      if (!identity) throw notFound('User', userId);
      const wasLocked = await store.unlock(identity.email);
      await audit('ACCOUNT_UNLOCKED', { userId, actorId, device, details: { wasLocked } });
      return true;
    },

    async rotateSigningKey(actorId: string | null, device: Device = {}): Promise<string> {
      const { kid, previousKids } = await deps.issuer.rotate();
      await audit('SIGNING_KEY_ROTATED', { actorId, device, details: { kid, previousKids } });
      return kid;
    },

    /** The periodic check: retires keys superseded for longer than the overlap. */
    async retireSigningKeys(): Promise<string[]> {
      const retired = await deps.issuer.retireSupersededKeys();
      if (retired.length > 0) await audit('SIGNING_KEY_RETIRED', { details: { kids: retired } });
      return retired;
    },

    async auditLog(args: { first?: number | null; after?: string | null; userId?: string | null; kind?: string | null }) {
      const { first, afterId } = pageArgs(args);
      const rows = await store.listSecurityEvents({
        first,
        ...(afterId ? { beforeId: afterId } : {}),
        ...(args.userId ? { userId: args.userId } : {}),
        ...(args.kind ? { kind: args.kind } : {}),
      });
      const page = rows.slice(0, first).map((row) => ({ ...row, details: JSON.stringify(row.details ?? {}) }));
      return toConnection({ rows: page, hasNextPage: rows.length > first });
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** 10 base32 characters (50 bits), shown as xxxxx-xxxxx. */
function newRecoveryCode(): string {
  const raw = base32Encode(randomBytes(7)).slice(0, 10).toLowerCase();
  return `${raw.slice(0, 5)}-${raw.slice(5)}`;
}

function hashRecoveryCode(code: string): string {
  return sha256(code.toLowerCase().replace(/[\s-]/g, ''));
}
