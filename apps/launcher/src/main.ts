import { runMain } from '@meridian/service-kit';
import { startPlatform } from './platform';

/**
 * `npm start`: the whole platform in one process on embedded defaults (PGlite under
 * .data/, in-memory events). Set the *_DATABASE_URL variables and REDIS_URL to use
 * PostgreSQL and Redis instead.
 */
runMain('platform', async () => {
  const startedAt = Date.now();
  const platform = await startPlatform({
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
    onServiceStarted: (service) => console.log(`  ${service.name.padEnd(13)} ${service.url}/graphql`),
  });
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  console.log(`\nPlatform ready in ${seconds}s.\n  Gateway and Apollo Sandbox: ${platform.gatewayUrl}\n  Press Ctrl-C to stop.`);
  return platform;
});
