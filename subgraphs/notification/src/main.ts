import { runMain } from '@meridian/service-kit';
import { loadNotificationConfig } from './config';
import { startNotificationService } from './service';

/** Runs the notification subgraph alone (distributed mode / containers), configured by environment. */
runMain('notification', () => startNotificationService({ config: loadNotificationConfig() }));
