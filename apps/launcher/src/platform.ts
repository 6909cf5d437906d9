import { startAuthService, loadAuthConfig } from '@meridian/auth-subgraph';
import { startUserService, loadUserConfig } from '@meridian/user-subgraph';
import { startTaskService, loadTaskConfig } from '@meridian/task-subgraph';
import { startNotificationService, loadNotificationConfig } from '@meridian/notification-subgraph';
import { startGatewayService, loadGatewayConfig } from '@meridian/gateway';
import { createPlatformEventBus } from '@meridian/domain-events';
import { createLogger, startWithCleanup, type ServiceHandle } from '@meridian/service-kit';

export interface PlatformOptions {
  /**
   * Environment for every service (ports, DATA_DIR, database URLs, REDIS_URL...), the same
   * variables each service reads when it runs alone. Defaults to process.env.
   */
  env?: Record<string, string | undefined>;
  /** Called as each service comes up. */
  onServiceStarted?: (service: ServiceHandle) => void;
}

export interface Platform {
  gatewayUrl: string;
  services: Record<'auth' | 'user' | 'task' | 'notification' | 'gateway', ServiceHandle>;
  stop(): Promise<void>;
}

/**
 * Starts every subgraph and the gateway in this process (embedded mode): each still serves
 * HTTP on its own port and the gateway federates over HTTP. Events travel on one bus shared
 * by all services: in memory, or Redis when REDIS_URL is set. If any service fails to
 * start, the ones already started are stopped and the error names the service.
 */
export function startPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const env = { ...process.env, ...options.env };
  const logLevel = env.LOG_LEVEL ?? 'info';
  return startWithCleanup(async (stack) => {
    const bus = createPlatformEventBus({
      redisUrl: env.REDIS_URL,
      streamPrefix: env.EVENT_STREAM_PREFIX,
      logger: createLogger('event-bridge', logLevel),
    });
    stack.defer('event bus', () => bus.close());

    const start = async (name: string, run: () => Promise<ServiceHandle>) => {
      let handle: ServiceHandle;
      try {
        handle = await run();
      } catch (error) {
        throw new Error(`${name} failed to start: ${(error as Error).message}`, { cause: error });
      }
      stack.defer(name, () => handle.stop());
      options.onServiceStarted?.(handle);
      return handle;
    };

    // auth first: the others verify tokens with its JWKS, whose URL is known once it listens.
    const auth = await start('auth', () =>
      startAuthService({ config: loadAuthConfig(env), bus, logger: createLogger('auth', logLevel) }),
    );
    const tokenEnv = { ...env, JWKS_URL: env.JWKS_URL ?? `${auth.url}/.well-known/jwks.json` };
    const [user, task, notification] = await Promise.all([
      start('user', () => startUserService({ config: loadUserConfig(tokenEnv), bus, logger: createLogger('user', logLevel) })),
      start('task', () => startTaskService({ config: loadTaskConfig(tokenEnv), bus, logger: createLogger('task', logLevel) })),
      start('notification', () =>
        startNotificationService({ config: loadNotificationConfig(tokenEnv), bus, logger: createLogger('notification', logLevel) }),
      ),
    ]);
    const gateway = await start('gateway', () =>
      startGatewayService({
        config: loadGatewayConfig({
          ...tokenEnv,
          AUTH_SUBGRAPH_URL: `${auth.url}/graphql`,
          USER_SUBGRAPH_URL: `${user.url}/graphql`,
          TASK_SUBGRAPH_URL: `${task.url}/graphql`,
          NOTIFICATION_SUBGRAPH_URL: `${notification.url}/graphql`,
        }),
        logger: createLogger('gateway', logLevel),
      }),
    );
    return {
      gatewayUrl: `${gateway.url}/graphql`,
      services: { auth, user, task, notification, gateway },
      stop: () => stack.stop(),
    };
  });
}
