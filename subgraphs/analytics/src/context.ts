import type { BaseContext, PlatformEventBus } from '@meridian/service-kit';
import type { StatsRepository } from './data/statsRepository';

export interface Context extends BaseContext {
  /** Memoizes within one operation; a subscription renews it for every event (renewStats). */
  stats: StatsRepository;
  renewStats(): void;
  /** Subscriptions stream from the platform's bus. */
  bus: PlatformEventBus;
  /** The request's "now", for presets ending today (injectable for tests). */
  now: Date;
}
