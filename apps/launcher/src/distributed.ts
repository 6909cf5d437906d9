import { startWithCleanup } from '@meridian/service-kit';
import { DEPLOYABLES, deploymentEnvironment, getDeployable, SUBGRAPH_NAMES, type SubgraphName, type Topology } from './deployment';
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

/** One process of the distributed platform, before it is started. */
export interface PlannedProcess {
  name: string;
  entry: string;
  env: Record<string, string | undefined>;
  healthUrl: string;
  /** The gateway's GraphQL URL, for gateway replicas. */
  graphqlUrl?: string;
}

/**
 * The processes of the distributed platform and the environment of each: the deployment
 * definition's environment (the one the compose file and the Kubernetes manifests are checked
 * against) in this machine's topology, over the caller's environment (PATH, LOG_LEVEL,
 * EVENT_STREAM_PREFIX...), minus other services' database URLs. Subgraphs first, then gateways.
 */
export function planDistributedProcesses(options: DistributedOptions): PlannedProcess[] {
  const replicas = options.gatewayReplicas ?? options.ports?.gateway.length ?? 1;
  const defaultPort = (name: string) => getDeployable(name).port;
  const ports = options.ports ?? {
    auth: defaultPort('auth'),
    user: defaultPort('user'),
    task: defaultPort('task'),
    notification: defaultPort('notification'),
    analytics: defaultPort('analytics'),
    gateway: Array.from({ length: replicas }, (_, replica) => defaultPort('gateway') + replica * 10),
  };
  if (ports.gateway.length < replicas) throw new Error(`${replicas} gateway replicas need ${replicas} gateway ports.`);
  const missing = ['REDIS_URL', ...SUBGRAPH_NAMES.map((service) => `${service.toUpperCase()}_DATABASE_URL`)].filter((variable) => !options.env[variable]);
  if (missing.length > 0) throw new Error(`Distributed mode needs ${missing.join(', ')} to be set.`);
  const topology: Topology = {
    serviceUrl: (_service, port) => `http://127.0.0.1:${port}`,
    port: (service) => (service === 'gateway' ? (ports.gateway[0] as number) : (ports[service as SubgraphName] as number)),
    bindHost: '127.0.0.1',
    databaseUrl: (service) => options.env[`${service.toUpperCase()}_DATABASE_URL`] as string,
    redisUrl: options.env.REDIS_URL as string,
    authSecretsKey: options.env.AUTH_SECRETS_KEY || undefined,
    publicUrl: `http://127.0.0.1:${ports.gateway[0]}`,
    nodeEnv: (options.env.NODE_ENV as Topology['nodeEnv'] | undefined) ?? 'development',
    // The caller's GATEWAY_WORKERS, passed on as given (the gateway checks it); unset: 1.
    gatewayWorkers: options.env.GATEWAY_WORKERS,
  };
  const inherited = Object.fromEntries(
    Object.entries(options.env).filter(([variable]) => !variable.endsWith('_DATABASE_URL') && !variable.endsWith('_SUBGRAPH_URL')),
  );
  const envOf = (name: string) => ({ ...inherited, ...deploymentEnvironment(name, topology) });
  const gateway = getDeployable('gateway');
  return [
    ...DEPLOYABLES.filter((deployable) => deployable.kind === 'subgraph').map((subgraph) => ({
      name: subgraph.name,
      entry: subgraph.entry,
      env: envOf(subgraph.name),
      healthUrl: `http://127.0.0.1:${ports[subgraph.name as SubgraphName]}${subgraph.probes?.readiness ?? '/healthz'}`,
    })),
    ...ports.gateway.slice(0, replicas).map((port, replica) => ({
      name: `gateway-${replica + 1}`,
      entry: gateway.entry,
      env: { ...envOf('gateway'), [gateway.portVariable as string]: String(port) },
      healthUrl: `http://127.0.0.1:${port}${gateway.probes?.readiness ?? '/healthz'}`,
      graphqlUrl: `http://127.0.0.1:${port}/graphql`,
    })),
  ];
}

/**
 * Distributed mode on one machine: every service its own process, configured only by
 * environment, exactly as containers run them. Needs PostgreSQL (<SERVICE>_DATABASE_URL)
 * with migrations applied (`npm run db:migrate`) and Redis (REDIS_URL).
 */
export function startDistributedPlatform(options: DistributedOptions): Promise<DistributedPlatform> {
  const planned = planDistributedProcesses(options);
  const subgraphs = planned.filter((process) => process.graphqlUrl === undefined);
  const gateways = planned.filter((process) => process.graphqlUrl !== undefined);
  return startWithCleanup(async (stack) => {
    const processes: RunningProcess[] = [];
    const started = await Promise.all(
      subgraphs.map((spec) =>
        startProcess(spec).then((running) => {
          stack.defer(spec.name, () => running.stop());
          return running;
        }),
      ),
    );
    processes.push(...started);
    const gatewayUrls: string[] = [];
    for (const spec of gateways) {
      const gateway = await startProcess(spec);
      stack.defer(gateway.name, () => gateway.stop());
      processes.push(gateway);
      gatewayUrls.push(spec.graphqlUrl as string);
    }
    return { gatewayUrls, processes, stop: () => stack.stop() };
  });
}
