import { writeOutbox } from '@meridian/event-bridge';
import { createDomainEvent } from '@meridian/domain-events';
import type { Prisma, PrismaClient } from '../generated/prisma/client';
import type { DueSoonStore } from '../domain/dueSoon';
import { renderEmail } from '../domain/email';
import { AWAITING_ADDRESS, SKIPPED_NO_ADDRESS, type DeliveryRecorder, type NotificationWriter, type PendingEmail } from '../domain/notify';

/**
 * The tables written by event handlers and the scheduler: notifications and deliveries, and the
 * two read models (user contacts, task projection). Used inside handleOnce's transaction.
 */
export type NotificationTx = Prisma.TransactionClient;

export function createNotificationWriter(tx: NotificationTx): NotificationWriter {
  return {
    storedPreferences: (userId) =>
      tx.notificationPreference.findMany({ where: { userId }, select: { kind: true, channel: true, enabled: true } }),
    contactOf: (userId) => tx.userContact.findUnique({ where: { userId }, select: { email: true, displayName: true } }),
    async insertNotification(notification) {
      // ON CONFLICT DO NOTHING on the once-only key: a concurrent insert by another replica waits
      // for the first one's commit and then inserts nothing.
      const { count } = await tx.notification.createMany({
        data: [
          {
            id: notification.id,
            recipientId: notification.recipientId,
            kind: notification.kind,
            title: notification.title,
            body: notification.body,
            taskId: notification.taskId,
            dueAt: notification.dueAt ?? null,
            inApp: notification.inApp,
          },
        ],
        skipDuplicates: true,
      });
      // The in-app notification and its live event commit together (Subscription.notificationReceived).
      if (count === 1 && notification.inApp) {
        await writeOutbox(tx, [
          createDomainEvent('notification.created', {
            payload: { notificationId: notification.id, recipientId: notification.recipientId, kind: notification.kind, taskId: notification.taskId ?? null },
          }),
        ]);
      }
      return count === 1;
    },
    async insertDeliveries(deliveries) {
      await tx.delivery.createMany({ data: [...deliveries] });
    },
  };
}

export interface TaskSnapshot {
  id: string;
  title: string;
  dueAt: Date | null;
  status: string;
  createdById: string;
  assigneeId: string | null;
}

/** Read models kept from events (this service may not read the user or task databases). */
export const projections = {
  async saveContact(tx: NotificationTx, contact: { userId: string; email: string; displayName: string }) {
    await tx.userContact.upsert({ where: { userId: contact.userId }, create: contact, update: { email: contact.email, displayName: contact.displayName } });
  },
  async saveTask(tx: NotificationTx, task: TaskSnapshot) {
    const { id, ...fields } = task;
    await tx.taskProjection.upsert({ where: { id }, create: task, update: fields });
  },
  /** Changes only a task the projection knows (an assignment of a task created before this service existed is ignored). */
  async patchTask(tx: NotificationTx, id: string, fields: Partial<Omit<TaskSnapshot, 'id'>>) {
    await tx.taskProjection.updateMany({ where: { id }, data: fields });
  },
  async deleteTask(tx: NotificationTx, id: string) {
    await tx.taskProjection.deleteMany({ where: { id } });
  },
};

export function createDeliveryRecorder(prisma: PrismaClient): DeliveryRecorder {
  return {
    async recordOutcome(deliveryId, status, error) {
      await prisma.delivery.update({ where: { id: deliveryId }, data: { status, error, attemptedAt: new Date() } });
    },
  };
}

export function createDueSoonStore(prisma: PrismaClient): DueSoonStore {
  return {
    async tasksDueBetween(from, to) {
      const rows = await prisma.taskProjection.findMany({
        where: { dueAt: { gt: from, lte: to }, status: { not: 'DONE' } },
        select: { id: true, title: true, dueAt: true, createdById: true, assigneeId: true },
        orderBy: { dueAt: 'asc' },
      });
      return rows.flatMap((row) => (row.dueAt ? [{ ...row, dueAt: row.dueAt }] : []));
    },
    transaction: (work) => prisma.$transaction((tx) => work(createNotificationWriter(tx))),
    ...createDeliveryRecorder(prisma),
    async claimStrandedEmails(cutoff) {
      // One UPDATE claims the rows (it moves attempted_at forward), so two replicas never retry the
      // same one: e-mails whose sender died, and e-mails waiting for an address that is now known
      // (their registration was handled while the notification's transaction was still open).
      const claimed = await prisma.$queryRaw<{ id: string }[]>`
        UPDATE deliveries d SET attempted_at = now(), error = NULL
        WHERE d.status = 'PENDING' AND d.channel = 'EMAIL'
          AND ((d.error IS NULL AND d.attempted_at < ${cutoff})
            OR (d.error = ${AWAITING_ADDRESS} AND EXISTS (
              SELECT 1 FROM notifications n JOIN user_contacts c ON c.user_id = n.recipient_id WHERE n.id = d.notification_id)))
        RETURNING d.id`;
      return pendingEmailsOf(prisma, claimed.map((row) => row.id));
    },
    async expireAwaitingEmails(cutoff) {
      const expired = await prisma.delivery.updateMany({
        where: { status: 'PENDING', channel: 'EMAIL', error: AWAITING_ADDRESS, attemptedAt: { lt: cutoff } },
        data: { status: 'SKIPPED', error: SKIPPED_NO_ADDRESS, attemptedAt: new Date() },
      });
      return expired.count;
    },
  };
}

/**
 * E-mail deliveries that were waiting for this user's address, now PENDING to be sent after the
 * registration's transaction commits (same transaction: a rolled-back registration releases nothing).
 */
export async function releaseAwaitingEmails(tx: NotificationTx, userId: string): Promise<PendingEmail[]> {
  const released = await tx.$queryRaw<{ id: string }[]>`
    UPDATE deliveries d SET attempted_at = now(), error = NULL
    FROM notifications n
    WHERE n.id = d.notification_id AND n.recipient_id = ${userId}
      AND d.status = 'PENDING' AND d.channel = 'EMAIL' AND d.error = ${AWAITING_ADDRESS}
    RETURNING d.id`;
  return pendingEmailsOf(tx, released.map((row) => row.id));
}

/** The messages of PENDING e-mail deliveries, to their recipients' known addresses (none for an unknown one). */
async function pendingEmailsOf(client: NotificationTx, deliveryIds: readonly string[]): Promise<PendingEmail[]> {
  if (deliveryIds.length === 0) return [];
  const rows = await client.delivery.findMany({ where: { id: { in: [...deliveryIds] } }, include: { notification: true } });
  const contacts = await client.userContact.findMany({ where: { userId: { in: rows.map((row) => row.notification.recipientId) } } });
  const byUser = new Map(contacts.map((contact) => [contact.userId, contact]));
  return rows.flatMap((row) => {
    const contact = byUser.get(row.notification.recipientId);
    return contact ? [{ deliveryId: row.id, message: renderEmail(contact.email, contact.displayName, row.notification) }] : [];
  });
}

/**
 * Account e-mails (password reset): one row per event recording the attempt. Never the link or
 * the token: only ids, status and reason go to the database.
 */
export const accountEmails = {
  async insert(
    tx: NotificationTx,
    email: { id: string; eventId: string; recipientId: string; status: 'PENDING' | 'SKIPPED'; error: string | null },
  ): Promise<void> {
    await tx.accountEmail.create({ data: { ...email, kind: 'PASSWORD_RESET' } });
  },
  async displayNameOf(tx: NotificationTx, userId: string): Promise<string | null> {
    return (await tx.userContact.findUnique({ where: { userId }, select: { displayName: true } }))?.displayName ?? null;
  },
  async recordOutcome(prisma: PrismaClient, id: string, status: 'SENT' | 'FAILED' | 'SKIPPED', error: string | null): Promise<void> {
    await prisma.accountEmail.update({ where: { id }, data: { status, error, attemptedAt: new Date() } });
  },
  /**
   * For a redelivered event: the id of its e-mail if it is still PENDING (the process that queued
   * it died before sending), claimed by moving attempted_at so one handler only takes it.
   */
  async claimPending(prisma: PrismaClient, eventId: string): Promise<string | null> {
    const row = await prisma.accountEmail.findUnique({ where: { eventId }, select: { id: true, status: true, attemptedAt: true } });
    if (!row || row.status !== 'PENDING') return null;
    const { count } = await prisma.accountEmail.updateMany({
      where: { id: row.id, status: 'PENDING', attemptedAt: row.attemptedAt },
      data: { attemptedAt: new Date() },
    });
    return count === 1 ? row.id : null;
  },
};
