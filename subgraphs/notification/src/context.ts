import type { BaseContext, PlatformEventBus } from '@meridian/service-kit';
import type { NotificationRepository } from './data/notificationRepository';

export interface Context extends BaseContext {
  notifications: NotificationRepository;
  /** Subscriptions stream from the platform's bus. */
  bus: PlatformEventBus;
  /** A repository without the request's DataLoader cache (a subscription context lives for many events). */
  freshNotifications(): NotificationRepository;
}
