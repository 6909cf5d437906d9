import type { BaseContext } from '@meridian/service-kit';
import type { NotificationRepository } from './data/notificationRepository';

export interface Context extends BaseContext {
  notifications: NotificationRepository;
}
