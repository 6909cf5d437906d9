import type { BaseContext } from '@meridian/service-kit';
import type { PlatformEventBus } from '@meridian/service-kit';
import type { TaskRepository, TaskRow } from './data/taskRepository';

export interface Context extends BaseContext {
  tasks: TaskRepository;
  /** The platform's event bus: subscriptions stream from it. */
  bus: PlatformEventBus;
  /** Reads a task without the request's DataLoader cache (a subscription context lives for many events). */
  loadTaskFresh(id: string): Promise<TaskRow | null>;
}
