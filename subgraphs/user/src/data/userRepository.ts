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

/** Used by the registration event handler inside its transaction. */
export async function createProfileIfMissing(
  tx: Pick<PrismaClient, 'user'>,
  profile: { id: string; email: string; displayName: string; roles?: Role[] },
): Promise<{ created: boolean }> {
  const existing = await tx.user.findUnique({ where: { id: profile.id }, select: { id: true } });
  if (existing) return { created: false };
  await tx.user.create({ data: { id: profile.id, email: profile.email, displayName: profile.displayName, roles: profile.roles ?? ['MEMBER'] } });
  return { created: true };
}
