import { requireSignedIn } from '@meridian/service-kit';
import type { MutationResolvers } from '../generated/resolvers-types';
import { markAllNotificationsRead, markNotificationRead, updateNotificationPreferences } from '../domain/notificationCommands';

// Resolvers only translate GraphQL to use cases; the rules live in src/domain.
export const Mutation: MutationResolvers = {
  markNotificationRead: (_parent, { id }, { viewer, notifications }) => markNotificationRead(notifications, requireSignedIn(viewer), id),
  markAllNotificationsRead: (_parent, _args, { viewer, notifications }) => markAllNotificationsRead(notifications, requireSignedIn(viewer)),
  updateNotificationPreferences: (_parent, { input }, { viewer, notifications }) =>
    updateNotificationPreferences(notifications, requireSignedIn(viewer), input),
};
