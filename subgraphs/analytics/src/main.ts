import { runMain } from '@meridian/service-kit';
import { loadAnalyticsConfig } from './config';
import { startAnalyticsService } from './service';

/** Runs the analytics subgraph alone (distributed mode / containers), configured by environment. */
runMain('analytics', () => startAnalyticsService({ config: loadAnalyticsConfig() }));
