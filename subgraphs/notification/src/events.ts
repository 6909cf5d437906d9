import { handleOnce, type EventBus, type Subscription } from '@meridian/event-bridge';
import type { DomainEvent, DomainEventOf } from '@meridian/domain-events';
import type { Logger } from '@meridian/service-kit';
import type { PrismaClient } from './generated/prisma/client';
import { accountEmails, createDeliveryRecorder, createNotificationWriter, projections, releaseAwaitingEmails, type NotificationTx } from './data/notificationStore';
import type { EmailSender } from './domain/email';
import { newId } from './domain/ids';
import type { NotificationDraft } from './domain/notification';
import { SKIPPED_NO_SMTP, sendEmails, storeNotifications } from './domain/notify';
import { SKIPPED_EXPIRED, initialResetStatus, passwordResetLink, renderPasswordResetEmail } from './domain/passwordReset';
import { assignedNotifications, commentNotifications, statusChangedNotifications } from './domain/taskNotifications';

export const NOTIFICATION_CONSUMER_GROUP = 'notification';

export const CONSUMED_EVENT_TYPES = [
  'auth.user-registered',
  'task.created',
  'task.updated',
  'task.assigned',
  'task.deleted',
  'task.comment-added',
  'auth.password-reset-requested',
] as const;

type ConsumedEvent = DomainEventOf<(typeof CONSUMED_EVENT_TYPES)[number]>;
type TaskOrUserEvent = Exclude<ConsumedEvent, { type: 'auth.password-reset-requested' }>;

/**
 * The notification subgraph publishes no events. It consumes:
 * - `auth.user-registered`: keeps the user's e-mail address and name (a read model; it may not read the user database)
 *   and sends the e-mails of notifications that were waiting for it;
 * - task events: keeps a small projection of tasks (for due-soon reminders) and notifies the people concerned;
 * - `auth.password-reset-requested`: e-mails the reset link (see handlePasswordReset).
 *
 * Each event is applied with handleOnce (inbox row in the same transaction): a redelivered event
 * changes nothing. The bus hands one task's events to one consumer at a time, in order, so the
 * projection follows the task's history. E-mails are sent after the commit.
 */
export async function subscribeNotificationEventHandlers(deps: {
  prisma: PrismaClient;
  bus: EventBus<DomainEvent>;
  logger: Logger;
  emailSender?: EmailSender;
  /** Base URL of reset links (PASSWORD_RESET_URL); the token goes in `?token=`. */
  passwordResetUrl: string;
}): Promise<Subscription> {
  const recorder = createDeliveryRecorder(deps.prisma);
  return deps.bus.subscribe({
    group: NOTIFICATION_CONSUMER_GROUP,
    types: CONSUMED_EVENT_TYPES,
    handler: async (event) => {
      // An embedded database (PGlite) answers through microtasks only: give timers and sockets a
      // turn per event, or a backlog would freeze the whole embedded process until it is done.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (event.type === 'auth.password-reset-requested') return handlePasswordReset(deps, event);
      const outcome = await handleOnce(deps.prisma, NOTIFICATION_CONSUMER_GROUP, event, async (tx) => {
        await updateProjections(tx, event);
        const result = await storeNotifications(createNotificationWriter(tx), draftsFor(event), { emailConfigured: deps.emailSender !== undefined });
        // Notifications handled before this registration kept their e-mails waiting for the address.
        if (event.type === 'auth.user-registered') result.emails.push(...(await releaseAwaitingEmails(tx, event.payload.userId)));
        return result;
      });
      if (!outcome.handled) return;
      await sendEmails(recorder, deps.emailSender, outcome.result.emails, (deliveryId, error) =>
        deps.logger.warn({ deliveryId, error, eventId: event.id }, 'notification e-mail failed'),
      );
      if (outcome.result.created > 0) deps.logger.debug({ eventId: event.id, type: event.type, created: outcome.result.created }, 'notified');
    },
  });
}

/**
 * The reset e-mail goes through SMTP only: no Notification row, nothing in-app, preferences do not
 * apply. The attempt is recorded in `account_emails` (PENDING in the inbox transaction, then SENT /
 * FAILED / SKIPPED), never the token or the link, and nothing here logs the payload. A handler
 * that died between the commit and the send leaves the row PENDING and the event unacknowledged:
 * its redelivery (which carries the token again) claims the row and sends. An expired link is not sent.
 */
async function handlePasswordReset(
  deps: { prisma: PrismaClient; logger: Logger; emailSender?: EmailSender; passwordResetUrl: string },
  event: DomainEventOf<'auth.password-reset-requested'>,
): Promise<void> {
  const { userId, email, token } = event.payload;
  const request = { userId, email, token, expiresAt: new Date(event.payload.expiresAt) };
  const outcome = await handleOnce(deps.prisma, NOTIFICATION_CONSUMER_GROUP, event, async (tx) => {
    const id = newId();
    const initial = initialResetStatus(request, new Date(), deps.emailSender !== undefined, SKIPPED_NO_SMTP);
    await accountEmails.insert(tx, { id, eventId: event.id, recipientId: userId, ...initial });
    return { id, status: initial.status, displayName: await accountEmails.displayNameOf(tx, userId) };
  });
  let emailId: string;
  let displayName: string | null;
  if (outcome.handled) {
    if (outcome.result.status !== 'PENDING') {
      deps.logger.debug({ eventId: event.id, userId, emailId: outcome.result.id }, 'password-reset e-mail skipped');
      return;
    }
    ({ id: emailId, displayName } = outcome.result);
  } else {
    const claimed = await accountEmails.claimPending(deps.prisma, event.id);
    if (claimed === null) return; // handled before: sent, failed or skipped
    emailId = claimed;
    displayName = await accountEmails.displayNameOf(deps.prisma, userId);
  }
  if (!deps.emailSender) {
    await accountEmails.recordOutcome(deps.prisma, emailId, 'SKIPPED', SKIPPED_NO_SMTP);
    return;
  }
  if (request.expiresAt.getTime() <= Date.now()) {
    await accountEmails.recordOutcome(deps.prisma, emailId, 'SKIPPED', SKIPPED_EXPIRED);
    return;
  }
  const message = renderPasswordResetEmail(request, passwordResetLink(deps.passwordResetUrl, token), displayName);
  try {
    await deps.emailSender.send(message);
  } catch (error) {
    // The server's reason, with anything that looks like the token masked (a server might echo data).
    const reason = (error instanceof Error ? error.message : String(error)).split(token).join('[redacted]').slice(0, 1000);
    deps.logger.warn({ emailId, eventId: event.id, userId, error: reason }, 'password-reset e-mail failed');
    await accountEmails.recordOutcome(deps.prisma, emailId, 'FAILED', reason);
    return;
  }
  await accountEmails.recordOutcome(deps.prisma, emailId, 'SENT', null);
  deps.logger.debug({ eventId: event.id, userId, emailId }, 'password-reset e-mail sent');
}

function draftsFor(event: TaskOrUserEvent): NotificationDraft[] {
  switch (event.type) {
    case 'task.assigned':
      return assignedNotifications(event);
    case 'task.updated':
      return statusChangedNotifications(event);
    case 'task.comment-added':
      return commentNotifications(event);
    default:
      return [];
  }
}

async function updateProjections(tx: NotificationTx, event: TaskOrUserEvent): Promise<void> {
  switch (event.type) {
    case 'auth.user-registered': {
      const { userId, email, displayName } = event.payload;
      await projections.saveContact(tx, { userId, email, displayName });
      return;
    }
    case 'task.created':
    case 'task.updated': {
      const payload = event.payload;
      await projections.saveTask(tx, {
        id: payload.taskId,
        title: payload.title,
        dueAt: payload.dueAt === null ? null : new Date(payload.dueAt),
        status: event.type === 'task.created' ? event.payload.status : event.payload.newStatus,
        createdById: payload.createdById,
        assigneeId: payload.assigneeId,
      });
      return;
    }
    case 'task.assigned':
      await projections.patchTask(tx, event.payload.taskId, { title: event.payload.title, assigneeId: event.payload.assigneeId });
      return;
    case 'task.deleted':
      await projections.deleteTask(tx, event.payload.taskId);
      return;
    case 'task.comment-added':
      return;
  }
}
