import type { BaseContext } from '@meridian/service-kit';
import type { AuthService, Device } from './domain/authService';

export interface Context extends BaseContext {
  auth: AuthService;
  device: Device;
}
