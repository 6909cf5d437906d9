import { runMain } from '@meridian/service-kit';
import { startDistributedPlatform } from './distributed';

/** `npm run start:distributed`: one process per service against PostgreSQL and Redis. */
runMain('platform', async () => {
  const platform = await startDistributedPlatform({
    env: process.env,
    gatewayReplicas: Number(process.env.GATEWAY_REPLICAS ?? 1),
  });
  for (const child of platform.processes) console.log(`  ${child.name.padEnd(10)} pid ${child.child.pid}`);
  console.log(`\nDistributed platform ready.\n  Gateway: ${platform.gatewayUrls.join(', ')}\n  Press Ctrl-C to stop.`);
  return platform;
});
