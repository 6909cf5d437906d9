import type { BaseContext } from '@meridian/service-kit';
import type { PlatformEventBus } from '@meridian/service-kit';
import type { TaskRepository, TaskRow } from './data/taskRepository';

export interface Context extends BaseContext {
  tasks: TaskRepository;
  /** The platform's event bus: subscriptions stream from it. */
  bus: PlatformEventBus;
  /**
   * The task as of an event, read once per event for every subscription resolving it (not
   * through the request's DataLoader: a subscription context lives for many events).
   */
  loadTaskForEvent(eventId: string, taskId: string): Promise<TaskRow | null>;
}
