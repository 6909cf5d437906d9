import { runMain } from '@meridian/service-kit';
import { loadAuthConfig } from './config';
import { startAuthService } from './service';

/** Runs the auth subgraph alone (distributed mode / containers), configured by environment. */
runMain('auth', () => startAuthService({ config: loadAuthConfig() }));
