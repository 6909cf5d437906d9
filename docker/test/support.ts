/**
 * What the deployment tests share: the code's own view of each service (which variables its
 * config parser reads, whether a given environment puts it in distributed production mode),
 * and small readers for the Dockerfile, compose interpolation and NetworkPolicies.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadGatewayConfig } from '@meridian/gateway';
import { findRepoRoot, readSupergraphConfig, resolveRoutingUrls, SUPERGRAPH_CONFIG_FILE } from '@meridian/composition';
import { loadAnalyticsConfig } from '@meridian/analytics-subgraph';
import { loadAuthConfig } from '@meridian/auth-subgraph';
import { loadNotificationConfig } from '@meridian/notification-subgraph';
import { loadTaskConfig } from '@meridian/task-subgraph';
import { loadUserConfig } from '@meridian/user-subgraph';
import { getDeployable, SUBGRAPH_NAMES, type SubgraphName } from '@meridian/launcher';

export const repoRoot = findRepoRoot();
export const dockerDir = path.join(repoRoot, 'docker');

type Env = Record<string, string | undefined>;

const subgraphLoaders: Record<SubgraphName, (env: Env) => { port: number; host: string; database: { databaseUrl?: string }; redisUrl?: string; production: boolean; tokens: { jwksUrl?: string } }> = {
  auth: loadAuthConfig,
  user: loadUserConfig,
  task: loadTaskConfig,
  notification: loadNotificationConfig,
  analytics: loadAnalyticsConfig,
};

export function supergraphRoutingUrls(): Record<string, string> {
  return resolveRoutingUrls(readSupergraphConfig(path.join(repoRoot, SUPERGRAPH_CONFIG_FILE)), {});
}

/** Runs `read` on an environment that records every variable the code looks up. */
function recordReads(env: Env, read: (env: Env) => unknown): Set<string> {
  const names = new Set<string>();
  const proxy = new Proxy({ ...env }, {
    get(target, key) {
      if (typeof key === 'string') names.add(key);
      return target[key as string];
    },
  });
  read(proxy);
  return names;
}

/**
 * Every variable a deployable's code reads from its environment, found by running its config
 * parser (the gateway also reads the routing-URL overrides of supergraph.yaml's subgraphs).
 * Variables added to a parser show up here without editing a list.
 */
export function variablesReadBy(name: string, env: Env): Set<string> {
  const deployable = getDeployable(name);
  if (deployable.kind === 'subgraph') return recordReads(env, (e) => subgraphLoaders[name as SubgraphName](e));
  if (deployable.kind === 'gateway') {
    return recordReads(env, (e) => {
      loadGatewayConfig(e);
      resolveRoutingUrls(readSupergraphConfig(path.join(repoRoot, SUPERGRAPH_CONFIG_FILE)), e);
    });
  }
  if (deployable.kind === 'dashboard') {
    // The dashboard server's contract (apps/dashboard): DASHBOARD_PORT, DASHBOARD_HOST, GATEWAY_URL.
    return new Set(['DASHBOARD_PORT', 'DASHBOARD_HOST', 'GATEWAY_URL', 'NODE_ENV']);
  }
  return new Set([...SUBGRAPH_NAMES.map((service) => `${service.toUpperCase()}_DATABASE_URL`), 'NODE_ENV']);
}

/**
 * Parses `env` with the deployable's real config parser and asserts what a container needs:
 * it parses (every required variable set, every value valid), production mode, listening on
 * all interfaces on its port, and for subgraphs PostgreSQL + Redis rather than the embedded
 * defaults. Returns the problems, empty when the environment is fit to deploy.
 */
export function deploymentProblems(name: string, env: Env): string[] {
  const deployable = getDeployable(name);
  const problems: string[] = [];
  const expect = (ok: boolean, message: string) => {
    if (!ok) problems.push(`${name}: ${message}`);
  };
  try {
    if (deployable.kind === 'subgraph') {
      const config = subgraphLoaders[name as SubgraphName](env);
      expect(config.production, 'NODE_ENV is not production');
      expect(config.host === '0.0.0.0', `listens on ${config.host}, unreachable from other containers (want 0.0.0.0)`);
      expect(config.port === deployable.port, `listens on ${config.port}, the deployment says ${deployable.port}`);
      expect(config.database.databaseUrl !== undefined, 'no database URL: it would fall back to an embedded PGlite inside the container');
      expect(config.redisUrl !== undefined, 'no REDIS_URL: events would stay on an in-memory bus inside one replica');
      expect(config.tokens.jwksUrl !== undefined, 'no JWKS_URL');
    } else if (deployable.kind === 'gateway') {
      const config = loadGatewayConfig(env);
      expect(config.production, 'NODE_ENV is not production');
      expect(config.host === '0.0.0.0', `listens on ${config.host} (want 0.0.0.0)`);
      expect(config.port === deployable.port, `listens on ${config.port}, the deployment says ${deployable.port}`);
    } else if (deployable.kind === 'dashboard') {
      expect(env.DASHBOARD_HOST === '0.0.0.0', `DASHBOARD_HOST is ${env.DASHBOARD_HOST} (want 0.0.0.0)`);
      expect(Number(env.DASHBOARD_PORT) === deployable.port, `DASHBOARD_PORT is ${env.DASHBOARD_PORT}, want ${deployable.port}`);
      expect(isAbsoluteUrl(env.GATEWAY_URL), `GATEWAY_URL ${env.GATEWAY_URL} is not an absolute URL`);
    }
  } catch (error) {
    problems.push(`${name}: ${(error as Error).message}`);
  }
  return problems;
}

function isAbsoluteUrl(value: string | undefined): boolean {
  try {
    return value !== undefined && Boolean(new URL(value));
  } catch {
    return false;
  }
}

/** Stand-in values for secrets, in the formats the parsers demand. */
export function sampleSecrets(): Record<string, string> {
  const password = randomBytes(12).toString('hex');
  const values: Record<string, string> = {
    POSTGRES_PASSWORD: password,
    AUTH_SECRETS_KEY: randomBytes(32).toString('base64'),
    REDIS_URL: `redis://:${password}@redis.example:6379`,
  };
  for (const service of SUBGRAPH_NAMES) {
    values[`${service.toUpperCase()}_DATABASE_URL`] = `postgresql://meridian_${service}:${password}@db-${service}.example:5432/meridian_${service}`;
  }
  return values;
}

// ---- Dockerfile --------------------------------------------------------------------------

export interface DockerStage {
  name: string;
  /** The image or stage it starts from. */
  from: string;
  instructions: { keyword: string; args: string }[];
}

/** Stages of a Dockerfile, with line continuations joined and comments dropped. */
export function readDockerfile(file = path.join(dockerDir, 'Dockerfile')): DockerStage[] {
  const lines = readFileSync(file, 'utf8').replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  const stages: DockerStage[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(\w+)\s+(.*)$/.exec(line);
    if (!match) throw new Error(`${file}: cannot read line "${line}"`);
    const keyword = match[1]!.toUpperCase();
    const args = match[2]!.trim();
    if (keyword === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!from) throw new Error(`${file}: cannot read FROM ${args}`);
      stages.push({ from: from[1]!, name: from[2] ?? `#${stages.length}`, instructions: [] });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (stage) stage.instructions.push({ keyword, args });
  }
  return stages;
}

/** The stage and the stages it is built FROM, nearest first. */
export function stageChain(stages: DockerStage[], name: string): DockerStage[] {
  const chain: DockerStage[] = [];
  let current = stages.find((stage) => stage.name === name);
  while (current) {
    chain.push(current);
    const parent = current.from;
    current = stages.find((stage) => stage.name === parent);
  }
  return chain;
}

/** The last value of an instruction in a stage, inherited from the stages it is built on. */
export function effective(stages: DockerStage[], name: string, keyword: string): string | undefined {
  for (const stage of stageChain(stages, name)) {
    const found = stage.instructions.filter((instruction) => instruction.keyword === keyword).pop();
    if (found) return found.args;
  }
  return undefined;
}

// ---- compose interpolation ---------------------------------------------------------------

/** Resolves `${VAR}`, `${VAR:-default}` and `${VAR:?error}` the way compose does. */
export function interpolate(value: string, variables: Record<string, string | undefined>): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}/g, (_match, name: string, operator: string | undefined, word: string | undefined) => {
    const set = variables[name];
    if (operator?.endsWith('-')) return set === undefined || (operator === ':-' && set === '') ? (word ?? '') : set;
    if (operator?.endsWith('?')) {
      if (set === undefined || (operator === ':?' && set === '')) throw new Error(`compose: ${name} is required: ${word}`);
      return set;
    }
    return set ?? '';
  });
}

// ---- NetworkPolicies ---------------------------------------------------------------------

type Labels = Record<string, string>;
interface Selector {
  matchLabels?: Labels;
  matchExpressions?: unknown[];
}
interface Peer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
  ipBlock?: { cidr: string; except?: string[] };
}
interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: { port?: number | string; protocol?: string }[];
}
export interface NetworkPolicy {
  metadata: { name: string; namespace?: string };
  spec: { podSelector: Selector; policyTypes?: string[]; ingress?: Rule[]; egress?: Rule[] };
}

/** A pod (namespace + labels) or an address outside the cluster. */
export type Endpoint = { namespace: string; labels: Labels } | { ip: string };

function selects(selector: Selector | undefined, labels: Labels): boolean {
  if (selector?.matchExpressions?.length) throw new Error('matchExpressions are not supported by this check; use matchLabels');
  return Object.entries(selector?.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
}

function ipToNumber(ip: string): number {
  return ip.split('.').reduce((total, part) => total * 256 + Number(part), 0);
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/') as [string, string];
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ipToNumber(base) / size) * size;
  const value = ipToNumber(ip);
  return value >= start && value < start + size;
}

function peerMatches(peer: Peer, other: Endpoint, policyNamespace: string): boolean {
  if ('ip' in other) {
    return peer.ipBlock !== undefined && inCidr(other.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((cidr) => inCidr(other.ip, cidr));
  }
  if (peer.ipBlock) return false; // pod traffic is matched by selectors here
  const namespaceOk = peer.namespaceSelector
    ? selects(peer.namespaceSelector, { 'kubernetes.io/metadata.name': other.namespace })
    : other.namespace === policyNamespace;
  return namespaceOk && (peer.podSelector === undefined || selects(peer.podSelector, other.labels));
}

/**
 * Whether the policies let `from` open a TCP connection to `to` on `port`, under Kubernetes
 * semantics: a pod selected by any policy of a direction accepts only what one of them allows;
 * both the sender's egress and the receiver's ingress must allow the connection.
 */
export function allowed(policies: NetworkPolicy[], namespace: string, from: Endpoint, to: Endpoint, port: number): boolean {
  return allowedSide(policies, namespace, from, 'Egress', to, port) && allowedSide(policies, namespace, to, 'Ingress', from, port);
}

/** Whether `from`'s own egress policies let it open a connection (whatever the receiver allows). */
export function egressAllows(policies: NetworkPolicy[], namespace: string, from: Endpoint, to: Endpoint, port: number): boolean {
  return allowedSide(policies, namespace, from, 'Egress', to, port);
}

function allowedSide(policies: NetworkPolicy[], namespace: string, pod: Endpoint, direction: 'Ingress' | 'Egress', other: Endpoint, port: number): boolean {
  const side = (pod: Endpoint, direction: 'Ingress' | 'Egress', other: Endpoint): boolean => {
    if ('ip' in pod || pod.namespace !== namespace) return true; // outside the policies' reach
    const applying = policies.filter(
      (policy) =>
        selects(policy.spec.podSelector, pod.labels) &&
        (policy.spec.policyTypes ?? (direction === 'Ingress' ? ['Ingress'] : policy.spec.egress ? ['Egress'] : [])).includes(direction),
    );
    if (applying.length === 0) return true;
    return applying.some((policy) =>
      (direction === 'Ingress' ? policy.spec.ingress : policy.spec.egress)?.some((rule) => {
        const peers = direction === 'Ingress' ? rule.from : rule.to;
        const peerOk = peers === undefined || peers.length === 0 || peers.some((peer) => peerMatches(peer, other, namespace));
        const portOk = rule.ports === undefined || rule.ports.length === 0 || rule.ports.some((p) => p.port === undefined || Number(p.port) === port);
        return peerOk && portOk;
      }),
    );
  };
  return side(pod, direction, other);
}
