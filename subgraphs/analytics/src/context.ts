import type { BaseContext } from '@meridian/service-kit';
import type { StatsRepository } from './data/statsRepository';

export interface Context extends BaseContext {
  stats: StatsRepository;
  /** The request's "now", for presets ending today (injectable for tests). */
  now: Date;
}
