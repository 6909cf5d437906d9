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
}

export type RotationOutcome =
  | { kind: 'rotated'; identity: IdentityRow; session: SessionRow }
  | { kind: 'invalid' }
  | { kind: 'reused'; sessionId: string };

/** Everything the auth use cases need from the database; the only place Prisma is used. */
export interface AuthStore {
  /** Creates the identity, its first session and the outbox events in ONE transaction. Returns false when the email is taken. */
  createAccount(args: {
    identity: Omit<IdentityRow, 'roles'>;
    session: NewSession;
    writeEvents: (tx: Prisma.TransactionClient) => Promise<void>;
  }): Promise<boolean>;
  findIdentityByEmail(email: string): Promise<IdentityRow | null>;
  /** Creates a session and its outbox events in one transaction. */
  createSession(session: NewSession, writeEvents: (tx: Prisma.TransactionClient) => Promise<void>): Promise<void>;
  /** Spends `tokenHash` and stores `next` in its place, atomically. A spent token revokes its session. */
  rotateRefreshToken(tokenHash: string, next: { id: string; hash: string }, now: Date): Promise<RotationOutcome>;
  revokeSession(sessionId: string, identityId: string, reason: string): Promise<void>;
  listSessions(identityId: string, now: Date): Promise<SessionRow[]>;
  signingKeys: SigningKeyStore;
}

export function createAuthStore(prisma: PrismaClient): AuthStore {
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

  return {
    async createAccount({ identity, session, writeEvents }) {
      try {
        await prisma.$transaction(async (tx) => {
          await tx.identity.create({ data: identity });
          await insertSession(tx, session);
          await writeEvents(tx);
        });
        return true;
      } catch (error) {
        if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return false;
        throw error;
      }
    },
    findIdentityByEmail: (email) => prisma.identity.findUnique({ where: { email } }),
    async createSession(session, writeEvents) {
      await prisma.$transaction(async (tx) => {
        await insertSession(tx, session);
        await writeEvents(tx);
      });
    },
    rotateRefreshToken: (tokenHash, next, now) =>
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
          return { kind: 'reused', sessionId: session.id };
        }
        if (session.revokedAt || session.expiresAt <= now) return { kind: 'invalid' };
        // The conditional update makes two concurrent refreshes with one token spend it once.
        const spent = await tx.refreshToken.updateMany({ where: { id: token.id, usedAt: null }, data: { usedAt: now } });
        if (spent.count !== 1) return { kind: 'reused', sessionId: session.id };
        await tx.refreshToken.create({ data: { id: next.id, sessionId: session.id, tokenHash: next.hash } });
        const updated = await tx.session.update({ where: { id: session.id }, data: { lastUsedAt: now } });
        return { kind: 'rotated', identity: session.identity, session: updated };
      }),
    async revokeSession(sessionId, identityId, reason) {
      await prisma.session.updateMany({
        where: { id: sessionId, identityId, revokedAt: null },
        data: { revokedAt: new Date(), revokedReason: reason },
      });
    },
    listSessions: (identityId, now) =>
      prisma.session.findMany({
        where: { identityId, revokedAt: null, expiresAt: { gt: now } },
        orderBy: { createdAt: 'desc' },
      }),
    signingKeys: {
      async listActive() {
        const rows = await prisma.signingKey.findMany({ where: { retiredAt: null }, orderBy: { createdAt: 'desc' } });
        return rows.map(
          (row): StoredKey => ({
            kid: row.kid,
            publicJwk: row.publicJwk as Record<string, unknown>,
            privateKeyPem: row.privateKeyPem,
            createdAt: row.createdAt,
          }),
        );
      },
      async insert(key) {
        await prisma.signingKey.create({
          data: { kid: key.kid, publicJwk: key.publicJwk as Prisma.InputJsonObject, privateKeyPem: key.privateKeyPem, createdAt: key.createdAt },
        });
      },
    },
  };
}
