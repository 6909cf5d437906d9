import DataLoader from 'dataloader';
import type { PrismaClient, User as UserRow, Role } from '../generated/prisma/client';

export type { UserRow };

export interface UserPage {
  rows: UserRow[];
  hasNextPage: boolean;
  totalCount: number;
}

/** The only place that touches the user tables. One instance per request (DataLoader cache). */
export interface UserRepository {
  /** Batched: every id asked for in one tick becomes one `WHERE id IN (...)` query. */
  byId(id: string): Promise<UserRow | null>;
  list(args: { first: number; afterId?: string; search?: string }): Promise<UserPage>;
  updateProfile(id: string, changes: { displayName?: string; avatarUrl?: string | null }): Promise<UserRow>;
}

export function createUserRepository(prisma: PrismaClient): UserRepository {
  const loader = new DataLoader<string, UserRow | null>(async (ids) => {
    const rows = await prisma.user.findMany({ where: { id: { in: [...ids] } } });
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  });

  return {
    byId: (id) => loader.load(id),
    async list({ first, afterId, search }) {
      // Prisma passes `contains` to ILIKE as is: escape its wildcards so "%" or "_" match literally.
      const pattern = search?.replace(/[\\%_]/g, '\\$&');
      const where = pattern
        ? {
            OR: [
              { displayName: { contains: pattern, mode: 'insensitive' as const } },
              { email: { contains: pattern, mode: 'insensitive' as const } },
            ],
          }
        : {};
      const [rows, totalCount] = await Promise.all([
        prisma.user.findMany({
          where: afterId ? { AND: [where, { id: { gt: afterId } }] } : where,
          orderBy: { id: 'asc' },
          take: first + 1,
        }),
        prisma.user.count({ where }),
      ]);
      return { rows: rows.slice(0, first), hasNextPage: rows.length > first, totalCount };
    },
    async updateProfile(id, changes) {
      const row = await prisma.user.update({ where: { id }, data: changes });
      loader.clear(id).prime(id, row);
      return row;
    },
  };
}

/** What the event handlers may touch, inside handleOnce's transaction. */
export type ProfileTx = Pick<PrismaClient, 'user' | 'pendingRoles' | '$executeRaw'>;

/**
 * Serialises the handlers of one user's events across replicas for the rest of the transaction
 * (the bus already orders them; this covers a partition changing hands mid-handler).
 */
async function lockUser(tx: ProfileTx, userId: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`user:${userId}`}, 0))`;
}

/**
 * Used by the registration event handler inside its transaction. Roles that arrived before the
 * profile (auth.roles-changed first) are taken over and their pending row removed.
 */
export async function createProfileIfMissing(
  tx: ProfileTx,
  profile: { id: string; email: string; displayName: string },
): Promise<{ created: boolean }> {
  await lockUser(tx, profile.id);
  const existing = await tx.user.findUnique({ where: { id: profile.id }, select: { id: true } });
  if (existing) return { created: false };
  const pending = await tx.pendingRoles.findUnique({ where: { userId: profile.id } });
  await tx.user.create({
    data: { id: profile.id, email: profile.email, displayName: profile.displayName, roles: pending?.roles ?? ['MEMBER'] },
  });
  if (pending) await tx.pendingRoles.delete({ where: { userId: profile.id } });
  return { created: true };
}

/**
 * Sets a user's roles (auth.roles-changed) inside the handler's transaction. Without a profile
 * yet, the roles are kept as pending and applied when the profile is created.
 */
export async function applyRoles(tx: ProfileTx, change: { userId: string; roles: Role[]; eventId: string }): Promise<'applied' | 'pending'> {
  await lockUser(tx, change.userId);
  const { count } = await tx.user.updateMany({ where: { id: change.userId }, data: { roles: change.roles } });
  if (count === 1) return 'applied';
  await tx.pendingRoles.upsert({
    where: { userId: change.userId },
    create: { userId: change.userId, roles: change.roles, eventId: change.eventId },
    update: { roles: change.roles, eventId: change.eventId },
  });
  return 'pending';
}
