import { handleOnce, type EventBus, type Subscription } from '@meridian/event-bridge';
import type { DomainEvent, DomainEventOf } from '@meridian/domain-events';
import type { Logger } from '@meridian/service-kit';
import type { PrismaClient } from './generated/prisma/client';
import { createDeliveryRecorder, createNotificationWriter, projections, type NotificationTx } from './data/notificationStore';
import type { EmailSender } from './domain/email';
import type { NotificationDraft } from './domain/notification';
import { sendEmails, storeNotifications } from './domain/notify';
import { assignedNotifications, commentNotifications, statusChangedNotifications } from './domain/taskNotifications';

export const NOTIFICATION_CONSUMER_GROUP = 'notification';

export const CONSUMED_EVENT_TYPES = [
  'auth.user-registered',
  'task.created',
  'task.updated',
  'task.assigned',
  'task.deleted',
  'task.comment-added',
] as const;

type ConsumedEvent = DomainEventOf<(typeof CONSUMED_EVENT_TYPES)[number]>;

/**
 * The notification subgraph publishes no events. It consumes:
 * - `auth.user-registered`: keeps the user's e-mail address and name (a read model; it may not read the user database);
 * - task events: keeps a small projection of tasks (for due-soon reminders) and notifies the people concerned.
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
}): Promise<Subscription> {
  const recorder = createDeliveryRecorder(deps.prisma);
  return deps.bus.subscribe({
    group: NOTIFICATION_CONSUMER_GROUP,
    types: CONSUMED_EVENT_TYPES,
    handler: async (event) => {
      const outcome = await handleOnce(deps.prisma, NOTIFICATION_CONSUMER_GROUP, event, async (tx) => {
        await updateProjections(tx, event);
        return storeNotifications(createNotificationWriter(tx), draftsFor(event), { emailConfigured: deps.emailSender !== undefined });
      });
      if (!outcome.handled) return;
      await sendEmails(recorder, deps.emailSender, outcome.result.emails, (deliveryId, error) =>
        deps.logger.warn({ deliveryId, error, eventId: event.id }, 'notification e-mail failed'),
      );
      if (outcome.result.created > 0) deps.logger.debug({ eventId: event.id, type: event.type, created: outcome.result.created }, 'notified');
    },
  });
}

function draftsFor(event: ConsumedEvent): NotificationDraft[] {
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

async function updateProjections(tx: NotificationTx, event: ConsumedEvent): Promise<void> {
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
