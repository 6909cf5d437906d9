import { Prisma, type PrismaClient } from '../generated/prisma/client';
import type { SigningKeyStore, StoredKey } from '../domain/signingKeys';
import type { SessionRow } from './sessionRepository';

export interface NewSession {
  id: string;
  identityId: string;
  userAgent?: string;
  ip?: string;
  expiresAt: Date;
  refreshTokenId: string;
  refreshTokenHash: string;
}

export interface IdentityRow {
  id: string;
  email: string;
  passwordHash: string;
  roles: string[];
  mfaSecret: string | null;
  mfaPendingSecret: string | null;
  mfaEnabledAt: Date | null;
}

export type RotationOutcome =
  | { kind: 'rotated'; identity: IdentityRow; session: SessionRow }
  | { kind: 'invalid' }
  | { kind: 'reused'; sessionId: string; identityId: string };

export interface ThrottleState {
  failures: number;
  lockedUntil: Date | null;
  lockedOutAt: Date | null;
}

export interface ThrottlePolicy {
  /** The failure count from which each failure locks the account for a doubling time. */
  backoffFrom: number;
  maxBackoffSeconds: number;
  /** The failure count at which the account is locked until unlocked or reset. */
  hardLockAt: number;
}

export interface SecurityEventInput {
  id: string;
  kind: string;
  userId?: string | null;
  actorId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  at: Date;
  details?: Record<string, unknown>;
}

export interface SecurityEventRow {
  id: string;
  kind: string;
  userId: string | null;
  actorId: string | null;
  ip: string | null;
  userAgent: string | null;
  at: Date;
  details: unknown;
}

type Writes = (tx: Prisma.TransactionClient) => Promise<void>;

export function createAuthStore(prisma: PrismaClient) {
  function insertSession(tx: Prisma.TransactionClient, session: NewSession) {
    return tx.session.create({
      data: {
        id: session.id,
        identityId: session.identityId,
        userAgent: session.userAgent ?? null,
        ip: session.ip ?? null,
        expiresAt: session.expiresAt,
        refreshTokens: { create: { id: session.refreshTokenId, tokenHash: session.refreshTokenHash } },
      },
    });
  }

  function revokeAll(tx: Prisma.TransactionClient, identityId: string, now: Date, reason: string, exceptSessionId?: string) {
    return tx.session.updateMany({
      where: { identityId, revokedAt: null, ...(exceptSessionId ? { id: { not: exceptSessionId } } : {}) },
      data: { revokedAt: now, revokedReason: reason },
    });
  }

  return {
    /** Creates the identity, its first session and the outbox events in ONE transaction. Returns false when the email is taken. */
    async createAccount(args: { identity: { id: string; email: string; passwordHash: string; roles: string[] }; session: NewSession; writeEvents: Writes }): Promise<boolean> {
      try {
        await prisma.$transaction(async (tx) => {
          await tx.identity.create({ data: args.identity });
          await insertSession(tx, args.session);
          await args.writeEvents(tx);
        });
        return true;
      } catch (error) {
        if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return false;
        throw error;
      }
    },
    findIdentityByEmail: (email: string): Promise<IdentityRow | null> => prisma.identity.findUnique({ where: { email } }),
    findIdentityById: (id: string): Promise<IdentityRow | null> => prisma.identity.findUnique({ where: { id } }),
    /** Creates a session and its outbox events in one transaction. */
    async createSession(session: NewSession, writeEvents: Writes): Promise<void> {
      await prisma.$transaction(async (tx) => {
        await insertSession(tx, session);
        await writeEvents(tx);
      });
    },
    /** Spends `tokenHash` and stores `next` in its place, atomically. A spent token revokes its session. */
    rotateRefreshToken: (tokenHash: string, next: { id: string; hash: string }, now: Date) =>
      prisma.$transaction(async (tx): Promise<RotationOutcome> => {
        const token = await tx.refreshToken.findUnique({
          where: { tokenHash },
          include: { session: { include: { identity: true } } },
        });
        if (!token) return { kind: 'invalid' };
        const { session } = token;
        if (token.usedAt) {
          // Someone presented a spent token: assume it was stolen and end the whole family.
          await tx.session.updateMany({
            where: { id: session.id, revokedAt: null },
            data: { revokedAt: now, revokedReason: 'refresh token reuse' },
          });
          return { kind: 'reused', sessionId: session.id, identityId: session.identityId };
        }
        if (session.revokedAt || session.expiresAt <= now) return { kind: 'invalid' };
        // The conditional update makes two concurrent refreshes with one token spend it once.
        const spent = await tx.refreshToken.updateMany({ where: { id: token.id, usedAt: null }, data: { usedAt: now } });
        if (spent.count !== 1) return { kind: 'reused', sessionId: session.id, identityId: session.identityId };
        await tx.refreshToken.create({ data: { id: next.id, sessionId: session.id, tokenHash: next.hash } });
        const updated = await tx.session.update({ where: { id: session.id }, data: { lastUsedAt: now } });
        return { kind: 'rotated', identity: session.identity, session: updated };
      }),
    /** Revokes one session of this identity; false when there is no such active session. */
    async revokeSession(sessionId: string, identityId: string, reason: string, now: Date): Promise<boolean> {
      const result = await prisma.session.updateMany({ where: { id: sessionId, identityId, revokedAt: null }, data: { revokedAt: now, revokedReason: reason } });
      return result.count > 0;
    },
    async revokeSessions(identityId: string, now: Date, reason: string, exceptSessionId?: string): Promise<number> {
      return (await revokeAll(prisma, identityId, now, reason, exceptSessionId)).count;
    },
    listSessions: (identityId: string, now: Date): Promise<SessionRow[]> =>
      prisma.session.findMany({ where: { identityId, revokedAt: null, expiresAt: { gt: now } }, orderBy: { createdAt: 'desc' } }),

    // --- failed attempts (per email, known account or not) ---
    async getThrottle(email: string): Promise<ThrottleState | null> {
      return prisma.loginThrottle.findUnique({ where: { email }, select: { failures: true, lockedUntil: true, lockedOutAt: true } });
    },
    /**
     * Counts one failure in ONE statement (insert or increment, then the lock derived from the
     * new count), so concurrent attempts, on any replica, are each counted.
     */
    async recordFailure(email: string, now: Date, policy: ThrottlePolicy): Promise<ThrottleState> {
      const rows = await prisma.$queryRaw<ThrottleState[]>`
        INSERT INTO login_throttles AS t (email, failures, updated_at) VALUES (${email}, 1, ${now}::timestamptz)
        ON CONFLICT (email) DO UPDATE SET
          failures = t.failures + 1,
          locked_until = CASE WHEN t.failures + 1 >= ${policy.backoffFrom}::int
            THEN GREATEST(COALESCE(t.locked_until, ${now}::timestamptz),
                          ${now}::timestamptz + make_interval(secs => LEAST(power(2, t.failures + 1 - ${policy.backoffFrom}::int), ${policy.maxBackoffSeconds}::float8)))
            ELSE t.locked_until END,
          locked_out_at = CASE WHEN t.failures + 1 >= ${policy.hardLockAt}::int THEN COALESCE(t.locked_out_at, ${now}::timestamptz) ELSE t.locked_out_at END,
          updated_at = ${now}::timestamptz
        RETURNING failures, locked_until AS "lockedUntil", locked_out_at AS "lockedOutAt"`;
      const row = rows[0]!;
      return { failures: Number(row.failures), lockedUntil: toDate(row.lockedUntil), lockedOutAt: toDate(row.lockedOutAt) };
    },
    /** After a successful log-in: forget the failures, unless the account is hard-locked. */
    async clearFailures(email: string): Promise<void> {
      await prisma.loginThrottle.deleteMany({ where: { email, lockedOutAt: null } });
    },
    /** Unlock or password reset: forget everything, hard lock included. Returns whether anything was locked. */
    async unlock(email: string): Promise<boolean> {
      return (await prisma.loginThrottle.deleteMany({ where: { email } })).count > 0;
    },

    // --- passwords ---
    /** Stores a new password hash and ends every other session (all of them when exceptSessionId is absent). */
    async setPassword(identityId: string, passwordHash: string, now: Date, reason: string, exceptSessionId?: string): Promise<void> {
      await prisma.$transaction(async (tx) => {
        await tx.identity.update({ where: { id: identityId }, data: { passwordHash, passwordChangedAt: now } });
        await revokeAll(tx, identityId, now, reason, exceptSessionId);
        await tx.passwordResetToken.updateMany({ where: { identityId, usedAt: null }, data: { usedAt: now } });
        await tx.mfaChallenge.updateMany({ where: { identityId, usedAt: null }, data: { usedAt: now } });
      });
    },
    async createPasswordReset(reset: { id: string; identityId: string; tokenHash: string; createdAt: Date; expiresAt: Date }, writeEvents: Writes): Promise<void> {
      await prisma.$transaction(async (tx) => {
        await tx.passwordResetToken.create({ data: reset });
        await writeEvents(tx);
      });
    },
    latestPasswordResetAt: async (identityId: string): Promise<Date | null> =>
      (await prisma.passwordResetToken.findFirst({ where: { identityId }, orderBy: { createdAt: 'desc' }, select: { createdAt: true } }))?.createdAt ?? null,
    /** The identity of a usable (unspent, unexpired) reset token, without spending it. */
    findPasswordReset: async (tokenHash: string, now: Date): Promise<IdentityRow | null> => {
      const token = await prisma.passwordResetToken.findUnique({ where: { tokenHash }, include: { identity: true } });
      return token && !token.usedAt && token.expiresAt > now ? token.identity : null;
    },
    /** Spends a reset token (once, even concurrently) and returns its identity; null when unknown, spent or expired. */
    spendPasswordReset: (tokenHash: string, now: Date) =>
      prisma.$transaction(async (tx): Promise<IdentityRow | null> => {
        const token = await tx.passwordResetToken.findUnique({ where: { tokenHash }, include: { identity: true } });
        if (!token || token.usedAt || token.expiresAt <= now) return null;
        const spent = await tx.passwordResetToken.updateMany({ where: { id: token.id, usedAt: null }, data: { usedAt: now } });
        return spent.count === 1 ? token.identity : null;
      }),

    // --- MFA ---
    async setPendingMfaSecret(identityId: string, sealed: string): Promise<void> {
      await prisma.identity.update({ where: { id: identityId }, data: { mfaPendingSecret: sealed } });
    },
    /** Turns MFA on with the pending secret (if still pending) and stores fresh recovery codes. */
    enableMfa: (identityId: string, args: { secret: string; timeStep: number; recoveryCodes: { id: string; codeHash: string }[]; now: Date }) =>
      prisma.$transaction(async (tx): Promise<boolean> => {
        const updated = await tx.identity.updateMany({
          where: { id: identityId, mfaSecret: null, mfaPendingSecret: args.secret },
          data: { mfaSecret: args.secret, mfaPendingSecret: null, mfaEnabledAt: args.now, mfaLastTimeStep: args.timeStep },
        });
        if (updated.count !== 1) return false;
        await tx.recoveryCode.deleteMany({ where: { identityId } });
        await tx.recoveryCode.createMany({ data: args.recoveryCodes.map((code) => ({ ...code, identityId, createdAt: args.now })) });
        return true;
      }),
    async disableMfa(identityId: string, now: Date): Promise<void> {
      await prisma.$transaction(async (tx) => {
        await tx.identity.update({ where: { id: identityId }, data: { mfaSecret: null, mfaPendingSecret: null, mfaEnabledAt: null, mfaLastTimeStep: null } });
        await tx.recoveryCode.deleteMany({ where: { identityId } });
        await tx.mfaChallenge.updateMany({ where: { identityId, usedAt: null }, data: { usedAt: now } });
      });
    },
    /** Accepts a TOTP time step once: false when this step or a later one was already used (replay). */
    async useTimeStep(identityId: string, timeStep: number): Promise<boolean> {
      const result = await prisma.identity.updateMany({
        where: { id: identityId, mfaSecret: { not: null }, OR: [{ mfaLastTimeStep: null }, { mfaLastTimeStep: { lt: timeStep } }] },
        data: { mfaLastTimeStep: timeStep },
      });
      return result.count === 1;
    },
    async useRecoveryCode(identityId: string, codeHash: string, now: Date): Promise<boolean> {
      const result = await prisma.recoveryCode.updateMany({ where: { identityId, codeHash, usedAt: null }, data: { usedAt: now } });
      return result.count === 1;
    },
    async createMfaChallenge(challenge: { id: string; identityId: string; tokenHash: string; userAgent?: string; ip?: string; createdAt: Date; expiresAt: Date }): Promise<void> {
      await prisma.mfaChallenge.create({ data: { ...challenge, userAgent: challenge.userAgent ?? null, ip: challenge.ip ?? null } });
    },
    findMfaChallenge: (tokenHash: string) => prisma.mfaChallenge.findUnique({ where: { tokenHash }, include: { identity: true } }),
    async spendMfaChallenge(id: string, now: Date): Promise<boolean> {
      return (await prisma.mfaChallenge.updateMany({ where: { id, usedAt: null }, data: { usedAt: now } })).count === 1;
    },

    // --- roles ---
    setRoles: (identityId: string, roles: string[], writeEvents: Writes) =>
      prisma.$transaction(async (tx): Promise<IdentityRow | null> => {
        const found = await tx.identity.findUnique({ where: { id: identityId } });
        if (!found) return null;
        const updated = await tx.identity.update({ where: { id: identityId }, data: { roles } });
        await writeEvents(tx);
        return updated;
      }),
    countAdmins: () => prisma.identity.count({ where: { roles: { has: 'ADMIN' } } }),

    // --- audit ---
    async recordSecurityEvent(event: SecurityEventInput): Promise<void> {
      await prisma.securityEvent.create({
        data: {
          id: event.id,
          kind: event.kind,
          userId: event.userId ?? null,
          actorId: event.actorId ?? null,
          ip: event.ip ?? null,
          userAgent: event.userAgent ?? null,
          at: event.at,
          details: (event.details ?? {}) as Prisma.InputJsonObject,
        },
      });
    },
    /** Newest first (ids are ULIDs); `first + 1` rows to tell whether there is a next page. */
    listSecurityEvents: (args: { first: number; beforeId?: string; userId?: string; kind?: string }): Promise<SecurityEventRow[]> =>
      prisma.securityEvent.findMany({
        where: {
          ...(args.beforeId ? { id: { lt: args.beforeId } } : {}),
          ...(args.userId ? { userId: args.userId } : {}),
          ...(args.kind ? { kind: args.kind } : {}),
        },
        orderBy: { id: 'desc' },
        take: args.first + 1,
      }),

    signingKeys: {
      async listActive() {
        const rows = await prisma.signingKey.findMany({ where: { retiredAt: null }, orderBy: [{ activatedAt: 'desc' }, { createdAt: 'desc' }] });
        return rows.map(
          (row): StoredKey => ({
            kid: row.kid,
            publicJwk: row.publicJwk as Record<string, unknown>,
            privateKeyPem: row.privateKeyPem,
            createdAt: row.createdAt,
            activatedAt: row.activatedAt,
          }),
        );
      },
      async insert(key) {
        await prisma.signingKey.create({
          data: {
            kid: key.kid,
            publicJwk: key.publicJwk as Prisma.InputJsonObject,
            privateKeyPem: key.privateKeyPem,
            createdAt: key.createdAt,
            activatedAt: key.activatedAt,
          },
        });
      },
      async retire(kids, at) {
        await prisma.signingKey.updateMany({ where: { kid: { in: kids }, retiredAt: null }, data: { retiredAt: at } });
      },
    } satisfies SigningKeyStore,
  };
}

export type AuthStore = ReturnType<typeof createAuthStore>;

function toDate(value: Date | string | null): Date | null {
  if (value === null) return null;
  return value instanceof Date ? value : new Date(value);
}

/** A SecurityEvent as the API shows it (details as a JSON string). */
export type SecurityEventView = Omit<SecurityEventRow, 'details'> & { details: string };
