/**
 * The one definition of the distributed platform: which processes exist, on which port each
 * listens, which probe paths it serves, and the environment each one gets. The distributed
 * launcher (and so its test), the compose file and the Kubernetes manifests are all built
 * from or checked against this module (docker/test), so what CI runs is what containers run.
 */

export type DeployableKind = 'gateway' | 'subgraph' | 'dashboard' | 'migrations';

export interface Deployable {
  name: string;
  kind: DeployableKind;
  /** TypeScript entry, relative to the repository root. */
  entry: string;
  /** Port it listens on (subgraphs: the port of their routing URL in supergraph.yaml). */
  port: number;
  portVariable?: string;
  hostVariable?: string;
  /** Liveness (process is alive) and readiness (can take traffic) paths. */
  probes?: { liveness: string; readiness: string };
  /** Files read at run time next to the code (`__dirname`), copied beside the bundle. */
  assets: string[];
  /**
   * Where its production bundle lives, relative to the image's working directory (and to the
   * bundle script's output folder). The dashboard keeps its repository layout, so that its
   * server finds its static files (`../dist`) as it does in development.
   */
  bundle: string;
  /** Bundle third-party packages too (the image then needs no node_modules). */
  bundleDependencies?: boolean;
}

const subgraph = (name: string, port: number, assets: string[] = []): Deployable => ({
  name,
  kind: 'subgraph',
  entry: `subgraphs/${name}/src/main.ts`,
  port,
  portVariable: `${name.toUpperCase()}_PORT`,
  hostVariable: `${name.toUpperCase()}_HOST`,
  probes: { liveness: '/healthz', readiness: '/readyz' },
  assets: [`subgraphs/${name}/src/schema.graphql`, ...assets],
  bundle: `dist/${name}/main.js`,
});

export const SUBGRAPH_NAMES = ['auth', 'user', 'task', 'notification', 'analytics'] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

export const DEPLOYABLES: readonly Deployable[] = [
  subgraph('auth', 4002, ['subgraphs/auth/src/domain/commonPasswords.txt']),
  subgraph('user', 4001),
  subgraph('task', 4003),
  subgraph('notification', 4004),
  subgraph('analytics', 4005),
  {
    name: 'gateway',
    kind: 'gateway',
    entry: 'apps/gateway/src/main.ts',
    port: 4000,
    portVariable: 'GATEWAY_PORT',
    hostVariable: 'GATEWAY_HOST',
    // /readyz: a supergraph is loaded and every subgraph answers.
    probes: { liveness: '/healthz', readiness: '/readyz' },
    assets: [],
    bundle: 'dist/gateway/main.js',
  },
  {
    name: 'dashboard',
    kind: 'dashboard',
    entry: 'apps/dashboard/server/main.ts',
    port: 4100,
    portVariable: 'DASHBOARD_PORT',
    hostVariable: 'DASHBOARD_HOST',
    probes: { liveness: '/healthz', readiness: '/healthz' },
    assets: [],
    // An ES module package: bundled as ESM (import.meta.url keeps working).
    bundle: 'apps/dashboard/server/main.mjs',
    bundleDependencies: true,
  },
  {
    // `migrate <service>`: applies one service's migrations, then exits (Job / init container).
    name: 'migrate',
    kind: 'migrations',
    entry: 'packages/database/src/cli.ts',
    port: 0,
    assets: [],
    bundle: 'dist/migrate/main.js',
  },
];

export function getDeployable(name: string): Deployable {
  const found = DEPLOYABLES.find((deployable) => deployable.name === name);
  if (!found) throw new Error(`Unknown deployable "${name}"; expected one of ${DEPLOYABLES.map((d) => d.name).join(', ')}`);
  return found;
}

/** Where things are in one environment (this machine, compose, Kubernetes). */
export interface Topology {
  /** Base URL (no path) at which other processes reach `service` listening on `port`. */
  serviceUrl(service: string, port: number): string;
  /** The port `service` listens on (defaults to its Deployable port). */
  port?(service: string): number;
  /** Interface services bind to: 127.0.0.1 on one machine, 0.0.0.0 in a container. */
  bindHost: string;
  databaseUrl(service: SubgraphName): string;
  redisUrl: string;
  /** 32-byte key, base64 or hex; every auth replica needs the same one. */
  authSecretsKey?: string;
  /** The URL users open (links in e-mails point there). */
  publicUrl: string;
  nodeEnv: 'production' | 'development' | 'test';
  /**
   * The gateway's TRUST_PROXY: who stands in front of it in this environment (a hop count or
   * proxy addresses/CIDRs). Unset: clients connect directly, so nothing is trusted ("0").
   */
  trustProxy?: string;
  /**
   * The gateway's GATEWAY_WORKERS: processes per gateway replica sharing its port (ADR 0021),
   * or where the environment takes it from. Unset: 1, one process per replica.
   */
  gatewayWorkers?: string;
}

/** Variables whose values are secrets: they come from a Secret, never from a literal. */
export function isSecretVariable(variable: string): boolean {
  return variable.endsWith('_DATABASE_URL') || variable === 'REDIS_URL' || variable === 'AUTH_SECRETS_KEY';
}

function portOf(topology: Topology, service: string): number {
  return topology.port?.(service) ?? getDeployable(service).port;
}

/**
 * The environment of one deployable in one topology: only what that process needs (each
 * subgraph gets its own database URL and no other).
 */
export function deploymentEnvironment(name: string, topology: Topology): Record<string, string> {
  const deployable = getDeployable(name);
  const url = (service: string) => topology.serviceUrl(service, portOf(topology, service));
  const env: Record<string, string> = { NODE_ENV: topology.nodeEnv };
  if (deployable.portVariable) env[deployable.portVariable] = String(portOf(topology, name));
  if (deployable.hostVariable) env[deployable.hostVariable] = topology.bindHost;
  const jwksUrl = `${url('auth')}/.well-known/jwks.json`;
  switch (deployable.kind) {
    case 'subgraph': {
      const service = name as SubgraphName;
      env[`${service.toUpperCase()}_DATABASE_URL`] = topology.databaseUrl(service);
      env.REDIS_URL = topology.redisUrl;
      env.JWKS_URL = jwksUrl;
      if (service === 'auth' && topology.authSecretsKey !== undefined) env.AUTH_SECRETS_KEY = topology.authSecretsKey;
      if (service === 'notification') env.PASSWORD_RESET_URL = `${topology.publicUrl.replace(/\/$/, '')}/reset-password`;
      break;
    }
    case 'gateway':
      env.JWKS_URL = jwksUrl;
      env.TRUST_PROXY = topology.trustProxy ?? '0';
      env.GATEWAY_WORKERS = topology.gatewayWorkers ?? '1';
      for (const subgraphName of SUBGRAPH_NAMES) env[`${subgraphName.toUpperCase()}_SUBGRAPH_URL`] = `${url(subgraphName)}/graphql`;
      break;
    case 'dashboard':
      env.GATEWAY_URL = url('gateway');
      break;
    case 'migrations':
      throw new Error('Migrations run once per service: use migrationEnvironment(service, topology).');
  }
  return env;
}

/** The environment of `migrate <service>`: that service's database and nothing else. */
export function migrationEnvironment(service: SubgraphName, topology: Topology): Record<string, string> {
  return { NODE_ENV: topology.nodeEnv, [`${service.toUpperCase()}_DATABASE_URL`]: topology.databaseUrl(service) };
}
