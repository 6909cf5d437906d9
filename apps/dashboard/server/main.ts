import { runMain } from '@meridian/service-kit';
import { loadDashboardConfig } from './config';
import { startDashboardServer } from './dashboardServer';

runMain('dashboard', async () => {
  const config = loadDashboardConfig();
  const server = await startDashboardServer(config);
  console.log(`dashboard: ${server.url} (gateway ${config.gatewayUrl})`);
  return server;
});
