import { startAuthService, loadAuthConfig } from '@meridian/auth-subgraph';
import { startUserService, loadUserConfig } from '@meridian/user-subgraph';
import { startTaskService, loadTaskConfig } from '@meridian/task-subgraph';
import { startNotificationService, loadNotificationConfig } from '@meridian/notification-subgraph';
import { startAnalyticsService, loadAnalyticsConfig } from '@meridian/analytics-subgraph';
import { startGatewayService, loadGatewayConfig, type GatewayHandle } from '@meridian/gateway';
import { createPlatformEventBus } from '@meridian/domain-events';
import {
  createLogger as createServiceLogger,
  parseEnv,
  startWithCleanup,
  telemetryConfig,
  telemetryShape,
  type LogDestination,
  type Logger,
  type PlatformEventBus,
  type ServiceHandle,
} from '@meridian/service-kit';
import { initTracing } from '@meridian/observability';

type Env = Record<string, string | undefined>;
type StartSubgraph = (env: Env, bus: PlatformEventBus, logger: Logger) => Promise<ServiceHandle>;

/** Every subgraph after auth, started in parallel once auth's JWKS URL is known. */
const SUBGRAPHS = {
  user: (env, bus, logger) => startUserService({ config: loadUserConfig(env), bus, logger }),
  task: (env, bus, logger) => startTaskService({ config: loadTaskConfig(env), bus, logger }),
  notification: (env, bus, logger) => startNotificationService({ config: loadNotificationConfig(env), bus, logger }),
  analytics: (env, bus, logger) => startAnalyticsService({ config: loadAnalyticsConfig(env), bus, logger }),
} satisfies Record<string, StartSubgraph>;

export type SubgraphName = 'auth' | keyof typeof SUBGRAPHS;

export interface PlatformOptions {
  /**
   * Environment for every service (ports, DATA_DIR, database URLs, REDIS_URL...), the same
   * variables each service reads when it runs alone. Defaults to process.env.
   */
  env?: Env;
  /** Where every service's JSON log lines go (tests capture them); default stdout. */
  logDestination?: LogDestination;
  /** Called as each service comes up. */
  onServiceStarted?: (service: ServiceHandle) => void;
}

export interface Platform {
  gatewayUrl: string;
  services: Record<SubgraphName, ServiceHandle> & { gateway: GatewayHandle };
  /** The bus all services share (tests publish or listen on it). */
  bus: PlatformEventBus;
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
  const createLogger = (name: string, level: string) => createServiceLogger(name, level, options.logDestination);
  // One process hosts every service: its spans are exported as one `service.name`.
  const telemetry = telemetryConfig(parseEnv(telemetryShape(), env));
  initTracing({ serviceName: telemetry.serviceName ?? 'meridian', ...telemetry });
  return startWithCleanup(async (stack) => {
    const bus = createPlatformEventBus({
      redisUrl: env.REDIS_URL,
      streamPrefix: env.EVENT_STREAM_PREFIX,
      logger: createLogger('event-bridge', logLevel),
    });
    stack.defer('event bus', () => bus.close());

    const start = async <T extends ServiceHandle>(name: string, run: () => Promise<T>): Promise<T> => {
      let handle: T;
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
    const auth = await start('auth', () => startAuthService({ config: loadAuthConfig(env), bus, logger: createLogger('auth', logLevel) }));
    const tokenEnv = { ...env, JWKS_URL: env.JWKS_URL ?? `${auth.url}/.well-known/jwks.json` };
    const subgraphs = Object.fromEntries(
      await Promise.all(
        Object.entries(SUBGRAPHS).map(async ([name, run]) => [
          name,
          await start(name, () => run(tokenEnv, bus, createLogger(name, logLevel))),
        ]),
      ),
    ) as Record<keyof typeof SUBGRAPHS, ServiceHandle>;
    const routing = Object.fromEntries(
      Object.entries({ auth, ...subgraphs }).map(([name, handle]) => [`${name.toUpperCase()}_SUBGRAPH_URL`, `${handle.url}/graphql`]),
    );
    const gateway = await start('gateway', () =>
      startGatewayService({ config: loadGatewayConfig({ ...tokenEnv, ...routing }), logger: createLogger('gateway', logLevel) }),
    );
    return {
      gatewayUrl: `${gateway.url}/graphql`,
      services: { auth, ...subgraphs, gateway },
      bus,
      stop: () => stack.stop(),
    };
  });
}
