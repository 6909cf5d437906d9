import { startWithCleanup } from '@meridian/service-kit';
import { startProcess, type RunningProcess } from './processes';

export interface DistributedOptions {
  /** Base environment (database URLs, REDIS_URL, ...). */
  env: Record<string, string | undefined>;
  /** Ports per service; one port per gateway replica (default 4000, 4010, 4020...). */
  ports?: { auth: number; user: number; task: number; notification: number; analytics: number; gateway: number[] };
  gatewayReplicas?: number;
}

export interface DistributedPlatform {
  gatewayUrls: string[];
  processes: RunningProcess[];
  stop(): Promise<void>;
}

const SUBGRAPHS = [
  { name: 'auth', entry: 'subgraphs/auth/src/main.ts', portVariable: 'AUTH_PORT' },
  { name: 'user', entry: 'subgraphs/user/src/main.ts', portVariable: 'USER_PORT' },
  { name: 'task', entry: 'subgraphs/task/src/main.ts', portVariable: 'TASK_PORT' },
  { name: 'notification', entry: 'subgraphs/notification/src/main.ts', portVariable: 'NOTIFICATION_PORT' },
  { name: 'analytics', entry: 'subgraphs/analytics/src/main.ts', portVariable: 'ANALYTICS_PORT' },
] as const;

/**
 * Distributed mode on one machine: every service its own process, configured only by
 * environment, exactly as containers run them. Needs PostgreSQL (<SERVICE>_DATABASE_URL)
 * with migrations applied (`npm run db:migrate`) and Redis (REDIS_URL).
 */
export function startDistributedPlatform(options: DistributedOptions): Promise<DistributedPlatform> {
  const replicas = options.gatewayReplicas ?? options.ports?.gateway.length ?? 1;
  const ports = options.ports ?? {
    auth: 4002,
    user: 4001,
    task: 4003,
    notification: 4004,
    analytics: 4005,
    gateway: Array.from({ length: replicas }, (_, replica) => 4000 + replica * 10),
  };
  if (ports.gateway.length < replicas) throw new Error(`${replicas} gateway replicas need ${replicas} gateway ports.`);
  const base: Record<string, string | undefined> = {
    ...options.env,
    JWKS_URL: `http://127.0.0.1:${ports.auth}/.well-known/jwks.json`,
    AUTH_SUBGRAPH_URL: `http://127.0.0.1:${ports.auth}/graphql`,
    USER_SUBGRAPH_URL: `http://127.0.0.1:${ports.user}/graphql`,
    TASK_SUBGRAPH_URL: `http://127.0.0.1:${ports.task}/graphql`,
    NOTIFICATION_SUBGRAPH_URL: `http://127.0.0.1:${ports.notification}/graphql`,
    ANALYTICS_SUBGRAPH_URL: `http://127.0.0.1:${ports.analytics}/graphql`,
  };
  for (const variable of ['REDIS_URL', ...SUBGRAPHS.map((subgraph) => `${subgraph.name.toUpperCase()}_DATABASE_URL`)]) {
    if (!base[variable]) throw new Error(`Distributed mode needs ${variable} to be set.`);
  }
  return startWithCleanup(async (stack) => {
    const processes: RunningProcess[] = [];
    const started = await Promise.all(
      SUBGRAPHS.map((subgraph) =>
        startProcess({
          name: subgraph.name,
          entry: subgraph.entry,
          env: { ...base, [subgraph.portVariable]: String(ports[subgraph.name]) },
          healthUrl: `http://127.0.0.1:${ports[subgraph.name]}/healthz`,
        }).then((running) => {
          stack.defer(subgraph.name, () => running.stop());
          return running;
        }),
      ),
    );
    processes.push(...started);
    const gatewayUrls: string[] = [];
    for (let replica = 0; replica < replicas; replica += 1) {
      const port = ports.gateway[replica] as number;
      const gateway = await startProcess({
        name: `gateway-${replica + 1}`,
        entry: 'apps/gateway/src/main.ts',
        env: { ...base, GATEWAY_PORT: String(port) },
        healthUrl: `http://127.0.0.1:${port}/healthz`,
      });
      stack.defer(gateway.name, () => gateway.stop());
      processes.push(gateway);
      gatewayUrls.push(`http://127.0.0.1:${port}/graphql`);
    }
    return { gatewayUrls, processes, stop: () => stack.stop() };
  });
}
