import { runMain } from '@meridian/service-kit';
import { loadUserConfig } from './config';
import { startUserService } from './service';

/** Runs the user subgraph alone (distributed mode / containers), configured by environment. */
runMain('user', () => startUserService({ config: loadUserConfig() }));
