import { pageArgs, requireSignedIn, toConnection } from '@meridian/service-kit';
import type { UserResolvers } from '../generated/resolvers-types';
import { getNotificationPreferences, isOwner } from '../domain/notificationCommands';
import { validateUnreadOnly } from '../domain/notification';

// Notification fields answer only for the viewer themself; for anyone else they are null (not
// FORBIDDEN), so a query about another user through the gateway still gets the other fields.
export const User: UserResolvers = {
  // Only the id is known here, and any id is a valid reference: a user with no notifications has an empty list.
  __resolveReference: (reference) => ({ __typename: 'User', id: reference.id }),
  notifications: async (user, { unreadOnly, ...args }, { viewer, notifications }) => {
    if (!isOwner(requireSignedIn(viewer), user.id)) return null;
    const { first, afterId } = pageArgs(args);
    return toConnection(
      await notifications.listNotifications(user.id, {
        unreadOnly: validateUnreadOnly(unreadOnly),
        first,
        ...(afterId !== undefined ? { beforeId: afterId } : {}),
      }),
    );
  },
  unreadNotificationCount: (user, _args, { viewer, notifications }) =>
    isOwner(requireSignedIn(viewer), user.id) ? notifications.unreadCount(user.id) : null,
  notificationPreferences: (user, _args, { viewer, notifications }) =>
    isOwner(requireSignedIn(viewer), user.id) ? getNotificationPreferences(notifications, user.id) : null,
};
