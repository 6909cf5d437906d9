import { requireSignedIn, streamEvents } from '@meridian/service-kit';
import type { DomainEventOf } from '@meridian/domain-events';
import type { SubscriptionResolvers } from '../generated/resolvers-types';
import type { NotificationRow } from '../data/notificationRepository';
import type { Context } from '../context';

export interface NotificationDeliveryPayload {
  cursor: string;
  notification: NotificationRow;
  unreadCount: number;
}

export const Subscription: SubscriptionResolvers = {
  notificationReceived: {
    subscribe: (_parent, { after }, { viewer, bus }) => {
      const me = requireSignedIn(viewer);
      // Authorization per event: only the viewer's own notifications ever reach this stream.
      return streamEvents(bus, {
        types: ['notification.created'],
        after,
        filter: (event) => event.payload.recipientId === me.userId,
      });
    },
    resolve: async (event: DomainEventOf<'notification.created'>, _args: unknown, { freshNotifications }: Context) => {
      const notifications = freshNotifications();
      const [notification, unreadCount] = await Promise.all([
        notifications.notificationById(event.payload.notificationId),
        notifications.unreadCount(event.payload.recipientId),
      ]);
      if (!notification) throw new Error(`Notification ${event.payload.notificationId} of event ${event.id} is missing.`);
      return { cursor: event.id, notification, unreadCount } satisfies NotificationDeliveryPayload;
    },
  },
};
