import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadGatewayConfig } from '@meridian/gateway';
import { DEPLOYABLES, deploymentEnvironment, isSecretVariable, migrationEnvironment, planDistributedProcesses, SUBGRAPH_NAMES, type Topology } from '@meridian/launcher';
import { deploymentProblems, dockerDir, interpolate, readDockerfile, repoRoot, sampleSecrets, supergraphRoutingUrls, variablesReadBy } from './support';

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string; target: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  expose?: string[];
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
}

const composeFile = path.join(dockerDir, 'compose.yaml');
const compose = parse(readFileSync(composeFile, 'utf8')) as { services: Record<string, ComposeService> };
const services = compose.services;
const running = DEPLOYABLES.filter((deployable) => deployable.kind !== 'migrations');

/** The compose file's topology: containers by service name, secrets interpolated from docker/.env. */
const composeTopology: Topology = {
  serviceUrl: (service, port) => `http://${service}:${port}`,
  bindHost: '0.0.0.0',
  databaseUrl: (service) => `postgresql://meridian:\${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in docker/.env}@postgres:5432/meridian_${service}`,
  redisUrl: 'redis://redis:6379',
  authSecretsKey: '${AUTH_SECRETS_KEY:?set AUTH_SECRETS_KEY in docker/.env}',
  publicUrl: '${PUBLIC_URL:-http://localhost:4100}',
  nodeEnv: 'production',
  // Only the dashboard's /graphql proxy reaches the gateway (edge network, no published port).
  trustProxy: '1',
  gatewayWorkers: '${GATEWAY_WORKERS:-1}',
};

function service(name: string): ComposeService {
  const found = services[name];
  if (!found) throw new Error(`${composeFile}: no service "${name}"`);
  return found;
}

/** The environment a container gets once compose has read docker/.env. */
function resolvedEnvironment(name: string, secrets = sampleSecrets()): Record<string, string> {
  return Object.fromEntries(Object.entries(service(name).environment ?? {}).map(([key, value]) => [key, interpolate(String(value), secrets)]));
}

describe('docker/compose.yaml', () => {
  it.each(running.map((deployable) => deployable.name))('%s gets exactly the environment the deployment definition gives it', (name) => {
    expect(service(name).environment).toEqual(deploymentEnvironment(name, composeTopology));
  });

  it.each(running.map((deployable) => deployable.name))('%s: its config parser accepts that environment for a distributed production run', (name) => {
    expect(deploymentProblems(name, resolvedEnvironment(name))).toEqual([]);
  });

  it.each(running.map((deployable) => deployable.name))('%s: every variable set is one its code reads (no typos, nothing dead)', (name) => {
    const environment = resolvedEnvironment(name);
    const read = variablesReadBy(name, environment);
    expect(Object.keys(environment).filter((variable) => !read.has(variable))).toEqual([]);
  });

  it('routes the gateway to every subgraph of supergraph.yaml, on the port and path of its routing URL, at the container that listens there', () => {
    const gateway = resolvedEnvironment('gateway');
    for (const [subgraph, routingUrl] of Object.entries(supergraphRoutingUrls())) {
      const configured = gateway[`${subgraph.toUpperCase()}_SUBGRAPH_URL`];
      expect(configured).toBeDefined();
      const url = new URL(configured as string);
      const expected = new URL(routingUrl);
      expect({ subgraph, port: url.port, path: url.pathname }).toEqual({ subgraph, port: expected.port, path: expected.pathname });
      // The host is the compose service of that subgraph, and it listens on that port.
      const target = service(url.hostname);
      expect(target.build?.target).toBe(subgraph);
      expect(resolvedEnvironment(url.hostname)[`${subgraph.toUpperCase()}_PORT`]).toBe(expected.port);
      expect(target.expose).toContain(expected.port);
    }
  });

  it('builds every image from a stage of docker/Dockerfile that exists', () => {
    const stages = new Set(readDockerfile().map((stage) => stage.name));
    const built = Object.entries(services).filter(([, definition]) => definition.build);
    expect(built.length).toBeGreaterThanOrEqual(running.length);
    for (const [name, definition] of built) {
      const build = definition.build!;
      expect({ name, dockerfileExists: readFileSync(path.resolve(dockerDir, build.context, build.dockerfile), 'utf8').length > 0 }).toEqual({ name, dockerfileExists: true });
      expect(path.resolve(dockerDir, build.context)).toBe(repoRoot);
      expect({ name, stage: stages.has(build.target) }).toEqual({ name, stage: true });
      expect(definition.image?.split(':')[0]).toBe(`meridian/${build.target}`);
    }
  });

  it('applies each subgraph’s migrations, with only its own database URL, before that subgraph starts', () => {
    for (const subgraph of SUBGRAPH_NAMES) {
      const migrate = service(`migrate-${subgraph}`);
      expect(migrate.build?.target).toBe('migrate');
      expect(migrate.command).toEqual(['migrate', subgraph]);
      expect(migrate.environment).toEqual(migrationEnvironment(subgraph, composeTopology));
      expect(migrate.depends_on?.postgres?.condition).toBe('service_healthy');
      expect(service(subgraph).depends_on?.[`migrate-${subgraph}`]?.condition).toBe('service_completed_successfully');
    }
  });

  it('inlines no secret: passwords and keys come from docker/.env', () => {
    const literalSecrets: string[] = [];
    for (const [name, definition] of Object.entries(services)) {
      for (const [variable, value] of Object.entries(definition.environment ?? {})) {
        const text = String(value);
        if (/(PASSWORD|SECRET|_KEY)$/.test(variable) && !/^\$\{[A-Z0-9_]+:\?[^}]*\}$/.test(text)) literalSecrets.push(`${name}.${variable}`);
        if (isSecretVariable(variable) && /^[a-z]+:\/\//.test(text)) {
          const credentials = /^[a-z]+:\/\/([^@/]*)@/.exec(text)?.[1];
          const password = credentials?.split(':').slice(1).join(':');
          if (password && !/^\$\{[A-Z0-9_]+:\?[^}]*\}$/.test(password)) literalSecrets.push(`${name}.${variable}`);
        }
      }
    }
    expect(literalSecrets).toEqual([]);
    // And the example env file names every variable the file needs.
    const example = readFileSync(path.join(dockerDir, 'compose.env.example'), 'utf8');
    const needed = new Set([...readFileSync(path.join(dockerDir, 'compose.yaml'), 'utf8').matchAll(/\$\{([A-Z0-9_]+):\?/g)].map((match) => match[1]!));
    for (const variable of needed) expect(example).toMatch(new RegExp(`^${variable}=`, 'm'));
  });

  it('is what the distributed launcher (and its test) runs: the same variables for every process, its own database only', () => {
    const secrets = sampleSecrets();
    const planned = planDistributedProcesses({
      env: { PATH: '/usr/bin', NODE_ENV: 'production', REDIS_URL: 'redis://127.0.0.1:6379', AUTH_SECRETS_KEY: secrets.AUTH_SECRETS_KEY, ...Object.fromEntries(SUBGRAPH_NAMES.map((s) => [`${s.toUpperCase()}_DATABASE_URL`, secrets[`${s.toUpperCase()}_DATABASE_URL`]])) },
      gatewayReplicas: 2,
    });
    expect(planned.map((process) => process.name).sort()).toEqual([...SUBGRAPH_NAMES, 'gateway-1', 'gateway-2'].sort());
    for (const process of planned) {
      const composeName = process.name.replace(/-\d+$/, '');
      const composeVariables = Object.keys(service(composeName).environment ?? {});
      const launched = Object.keys(process.env).filter((variable) => process.env[variable] !== undefined);
      expect({ process: process.name, missing: composeVariables.filter((variable) => !launched.includes(variable)) }).toEqual({ process: process.name, missing: [] });
      const databases = launched.filter((variable) => variable.endsWith('_DATABASE_URL'));
      expect({ process: process.name, databases }).toEqual({ process: process.name, databases: composeVariables.filter((variable) => variable.endsWith('_DATABASE_URL')) });
      // And the launcher's values pass the same parser checks, but for the bind address.
      const problems = deploymentProblems(composeName, process.env).filter((problem) => !/listens on 127\.0\.0\.1|listens on \d+, the deployment says/.test(problem));
      expect(problems).toEqual([]);
    }
  });

  it('gives each gateway replica GATEWAY_WORKERS from docker/.env: 1 when unset, the example’s value, or what the operator sets', () => {
    const workersWith = (variables: Record<string, string>) => loadGatewayConfig(resolvedEnvironment('gateway', { ...sampleSecrets(), ...variables })).workers;
    expect(resolvedEnvironment('gateway').GATEWAY_WORKERS).toBe('1');
    expect(workersWith({})).toBe(1);
    expect(workersWith({ GATEWAY_WORKERS: '3' })).toBe(3);
    const example = /^GATEWAY_WORKERS=(.*)$/m.exec(readFileSync(path.join(dockerDir, 'compose.env.example'), 'utf8'))?.[1];
    expect(example).toBe('1');
    expect(workersWith({ GATEWAY_WORKERS: example! })).toBe(1);
  });

  it('the distributed launcher passes the caller’s GATEWAY_WORKERS on to every gateway replica, 1 when unset', () => {
    const secrets = sampleSecrets();
    const env = { NODE_ENV: 'production', REDIS_URL: 'redis://127.0.0.1:6379', ...Object.fromEntries(SUBGRAPH_NAMES.map((s) => [`${s.toUpperCase()}_DATABASE_URL`, secrets[`${s.toUpperCase()}_DATABASE_URL`]])) };
    const gateways = (extra: Record<string, string>) => planDistributedProcesses({ env: { ...env, ...extra }, gatewayReplicas: 2 }).filter((process) => process.name.startsWith('gateway-'));
    expect(gateways({}).map((process) => process.env.GATEWAY_WORKERS)).toEqual(['1', '1']);
    expect(gateways({ GATEWAY_WORKERS: 'auto' }).map((process) => process.env.GATEWAY_WORKERS)).toEqual(['auto', 'auto']);
  });

  it('publishes only the dashboard; runs two gateway replicas; keeps Redis streams on disk', () => {
    const published = Object.entries(services).filter(([, definition]) => (definition.ports ?? []).length > 0).map(([name]) => name);
    expect(published).toEqual(['dashboard']);
    expect(service('gateway').deploy?.replicas).toBeGreaterThanOrEqual(2);
    expect(service('gateway').ports).toBeUndefined();
    expect(service('redis').command?.join(' ')).toMatch(/--appendonly yes/);
  });
});
