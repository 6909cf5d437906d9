import type { BaseContext } from '@meridian/service-kit';
import type { TaskRepository } from './data/taskRepository';

export interface Context extends BaseContext {
  tasks: TaskRepository;
}
