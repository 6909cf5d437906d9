import { createHash, randomBytes } from 'node:crypto';
import { ulid } from 'ulid';
import { conflict, createError, unauthenticated } from '@meridian/errors';
import type { AuthStore, NewSession } from '../data/authStore';
import { normalizeEmail, validateSignUp } from './credentials';
import { hashPassword, verifyPassword } from './passwords';
import type { TokenIssuer } from './signingKeys';

export const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/** A User as this subgraph knows it: the id, and the email where it provides it. */
export interface UserReference {
  id: string;
  email?: string;
}

/** What signUp / logIn / refreshSession return (mapped to AuthPayload). */
export interface AuthResult {
  accessToken: string;
  refreshToken: string;
  expiresAt: Date;
  /** The email is provided to the gateway (@provides) so the caller sees their own. */
  user: { __typename: 'User'; id: string; email: string };
}

export interface Device {
  userAgent?: string;
  ip?: string;
}

export interface Registration {
  userId: string;
  email: string;
  displayName: string;
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
  /** Resolves once the user subgraph has the profile (or after a timeout: it will still arrive). */
  waitForProfile: (userId: string) => { ready: Promise<void>; cancel(): void };
  /** Wakes the outbox relay so the event leaves now rather than at the next poll. */
  afterCommit: () => void;
}

const INVALID_LOGIN = 'Invalid email or password.';

export function createAuthService(deps: AuthServiceDeps) {
  function newRefreshToken() {
    const token = randomBytes(32).toString('base64url');
    return { token, hash: hashRefreshToken(token), id: ulid() };
  }

  async function issue(
    identity: { id: string; email: string; roles: string[] },
    sessionId: string,
    refreshToken: string,
  ): Promise<AuthResult> {
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
      expiresAt: new Date(Date.now() + SESSION_TTL_MS),
      refreshTokenId: refresh.id,
      refreshTokenHash: refresh.hash,
    };
  }

  return {
    async signUp(input: { email: string; password: string; displayName: string }, device: Device): Promise<AuthResult> {
      const { email, password, displayName } = validateSignUp(input);
      const passwordHash = await hashPassword(password);
      const userId = ulid();
      const refresh = newRefreshToken();
      const session = newSession(userId, device, refresh);
      // Listen before committing so the profile-created event cannot slip past us.
      const profile = deps.waitForProfile(userId);
      let created: boolean;
      try {
        created = await deps.store.createAccount({
          identity: { id: userId, email, passwordHash },
          session,
          writeEvents: (tx) => deps.recordRegistration(tx, { userId, email, displayName }),
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
      await profile.ready;
      return issue({ id: userId, email, roles: ['MEMBER'] }, session.id, refresh.token);
    },

    async logIn(input: { email: string; password: string }, device: Device): Promise<AuthResult> {
      let email: string | undefined;
      try {
        email = normalizeEmail(input.email);
      } catch {
        email = undefined; // a malformed email is just an unknown one: same answer, same cost
      }
      const identity = email && input.password.length <= 1024 ? await deps.store.findIdentityByEmail(email) : null;
      const ok = await verifyPassword(identity?.passwordHash, input.password.slice(0, 1024));
      if (!identity || !ok) throw unauthenticated(INVALID_LOGIN);
      const refresh = newRefreshToken();
      const session = newSession(identity.id, device, refresh);
      await deps.store.createSession(session, (tx) => deps.recordSignIn(tx, { userId: identity.id, sessionId: session.id }));
      deps.afterCommit();
      return issue(identity, session.id, refresh.token);
    },

    async refreshSession(refreshToken: string): Promise<AuthResult> {
      if (refreshToken.length === 0 || refreshToken.length > 200) throw unauthenticated('Invalid refresh token.');
      const next = newRefreshToken();
      const outcome = await deps.store.rotateRefreshToken(hashRefreshToken(refreshToken), next, new Date());
      if (outcome.kind === 'reused') {
        throw createError('UNAUTHENTICATED', 'Refresh token was already used; the session has been revoked. Sign in again.');
      }
      if (outcome.kind === 'invalid') throw unauthenticated('Invalid refresh token.');
      return issue(outcome.identity, outcome.session.id, next.token);
    },

    async logOut(userId: string, sessionId: string | undefined): Promise<boolean> {
      if (sessionId) await deps.store.revokeSession(sessionId, userId, 'log out');
      return true;
    },

    listSessions: (userId: string) => deps.store.listSessions(userId, new Date()),
  };
}

export type AuthService = ReturnType<typeof createAuthService>;

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
