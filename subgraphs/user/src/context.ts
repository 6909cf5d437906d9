import type { BaseContext } from '@meridian/service-kit';
import type { UserRepository } from './data/userRepository';

export interface Context extends BaseContext {
  users: UserRepository;
}
