import { runMain } from '@meridian/service-kit';
import { loadTaskConfig } from './config';
import { startTaskService } from './service';

/** Runs the task subgraph alone (distributed mode / containers), configured by environment. */
runMain('task', () => startTaskService({ config: loadTaskConfig() }));
