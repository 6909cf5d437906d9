import { requireSignedIn } from '@meridian/service-kit';
import type { NotificationResolvers } from '../generated/resolvers-types';

export const Notification: NotificationResolvers = {
  // The gateway sends every Notification reference of a plan in one request; the loader makes them one query.
  // Someone else's notification (or one kept only for e-mail) resolves to null, like an unknown id.
  __resolveReference: async (reference, { viewer, notifications }) => {
    const signedIn = requireSignedIn(viewer);
    const notification = await notifications.notificationById(reference.id);
    return notification && notification.inApp && notification.recipientId === signedIn.userId ? notification : null;
  },
  recipient: (notification) => ({ __typename: 'User', id: notification.recipientId }),
  task: (notification) => (notification.taskId === null ? null : { __typename: 'Task', id: notification.taskId }),
};
