import DataLoader from 'dataloader';
import type { Notification as NotificationRow, PrismaClient } from '../generated/prisma/client';
import type { NotificationInbox } from '../domain/notificationCommands';

export type { NotificationRow };

/** A user as this subgraph knows one: by id only (the user subgraph resolves the rest). */
export interface UserRef {
  __typename?: 'User';
  id: string;
}

/** A task as this subgraph knows one: by id only (the task subgraph resolves the rest). */
export interface TaskRef {
  __typename?: 'Task';
  id: string;
}

export interface Page<T> {
  rows: T[];
  hasNextPage: boolean;
}

/** The only place the API touches the notification tables. One instance per request (DataLoader cache). */
export interface NotificationRepository extends NotificationInbox {
  /** Batched: every id asked for in one tick becomes one `WHERE id IN (...)` query. */
  notificationById(id: string): Promise<NotificationRow | null>;
  /** Newest first, one query: one extra row tells `hasNextPage`. Only in-app ones (the feed). */
  listNotifications(recipientId: string, options: { unreadOnly: boolean; first: number; beforeId?: string }): Promise<Page<NotificationRow>>;
  unreadCount(recipientId: string): Promise<number>;
}

export function createNotificationRepository(prisma: PrismaClient): NotificationRepository {
  const notifications = new DataLoader<string, NotificationRow | null>(async (ids) => {
    const rows = await prisma.notification.findMany({ where: { id: { in: [...ids] } } });
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  });

  return {
    notificationById: (id) => notifications.load(id),

    async listNotifications(recipientId, { unreadOnly, first, beforeId }) {
      const rows = await prisma.notification.findMany({
        where: {
          recipientId,
          inApp: true,
          ...(unreadOnly ? { readAt: null } : {}),
          ...(beforeId !== undefined ? { id: { lt: beforeId } } : {}),
        },
        orderBy: { id: 'desc' },
        take: first + 1,
      });
      for (const row of rows) notifications.prime(row.id, row);
      return { rows: rows.slice(0, first), hasNextPage: rows.length > first };
    },

    unreadCount: (recipientId) => prisma.notification.count({ where: { recipientId, inApp: true, readAt: null } }),

    async markRead(id, recipientId, at) {
      // The recipient is part of the condition: someone else's id matches nothing, like an unknown one.
      await prisma.notification.updateMany({ where: { id, recipientId, inApp: true, readAt: null }, data: { readAt: at } });
      notifications.clear(id);
      return prisma.notification.findFirst({ where: { id, recipientId, inApp: true } });
    },

    async markAllRead(recipientId, at) {
      const { count } = await prisma.notification.updateMany({ where: { recipientId, inApp: true, readAt: null }, data: { readAt: at } });
      notifications.clearAll();
      return count;
    },

    storedPreferences: (userId) =>
      prisma.notificationPreference.findMany({ where: { userId }, select: { kind: true, channel: true, enabled: true } }),

    async savePreferences(userId, preferences) {
      await prisma.$transaction(async (tx) => {
        for (const { kind, channel, enabled } of preferences) {
          await tx.notificationPreference.upsert({
            where: { userId_kind_channel: { userId, kind, channel } },
            create: { userId, kind, channel, enabled },
            update: { enabled },
          });
        }
      });
    },
  };
}
