import { notFound } from '@meridian/errors';
import type { Policy } from '@meridian/authorization';
import type { Context } from './context';

/**
 * The notification subgraph's `@policy` rules. Someone else's notification answers NOT_FOUND,
 * like an unknown id: its existence is private. An unknown id passes (the resolver answers).
 */
export const notificationPolicies: Record<string, Policy<Context>> = {
  'notification:recipient': async ({ viewer, args, context }) => {
    const notification = await context.notifications.notificationById(String(args.id));
    if (notification && notification.recipientId !== viewer.userId) throw notFound('Notification', String(args.id));
    return true;
  },
};
