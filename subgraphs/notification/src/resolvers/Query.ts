import { requireSignedIn } from '@meridian/service-kit';
import type { QueryResolvers } from '../generated/resolvers-types';
import { getNotificationPreferences } from '../domain/notificationCommands';

export const Query: QueryResolvers = {
  myNotificationPreferences: (_parent, _args, { viewer, notifications }) =>
    getNotificationPreferences(notifications, requireSignedIn(viewer).userId),
};
