import { existsSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_STATIC_DIR, loadDashboardConfig, startDashboardServer, type DashboardServer } from '@meridian/dashboard/server';
import { runMain } from '@meridian/service-kit';
import { startPlatform } from './platform';

/**
 * `npm start`: the whole platform in one process on embedded defaults (PGlite under
 * .data/, in-memory events), plus the dashboard. Set the *_DATABASE_URL variables and
 * REDIS_URL to use PostgreSQL and Redis instead.
 */
runMain('platform', async () => {
  const startedAt = Date.now();
  const platform = await startPlatform({
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
    onServiceStarted: (service) => console.log(`  ${service.name.padEnd(13)} ${service.url}/graphql`),
  });
  let dashboard: DashboardServer | undefined;
  let dashboardLine: string;
  if (existsSync(path.join(DEFAULT_STATIC_DIR, 'index.html'))) {
    try {
      const config = loadDashboardConfig({ ...process.env, GATEWAY_URL: platform.gatewayUrl });
      dashboard = await startDashboardServer(config);
      dashboardLine = `  Dashboard:                  ${dashboard.url}`;
    } catch (error) {
      await platform.stop();
      throw new Error(`dashboard failed to start: ${(error as Error).message}`, { cause: error });
    }
  } else {
    dashboardLine = '  Dashboard: not built (npm run build -w @meridian/dashboard)';
  }
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  console.log(`\nPlatform ready in ${seconds}s.\n  Gateway and Apollo Sandbox: ${platform.gatewayUrl}\n${dashboardLine}\n  Press Ctrl-C to stop.`);
  return {
    async stop() {
      await dashboard?.stop();
      await platform.stop();
    },
  };
});
