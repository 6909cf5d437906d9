/**
 * What the images run, run here: no container engine is available, so this builds the same
 * bundles the Dockerfile's build stage builds, lays them out as the runtime stage does
 * (only supergraph.yaml, supergraph.graphql, prisma/ and dist/<service>), runs the migration
 * bundle against fresh PostgreSQL databases, starts every backend bundle with the environment
 * of the deployment definition in production mode, and probes the paths the manifests probe,
 * with the Dockerfile's own HEALTHCHECK command.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dropPostgresDatabase } from '@meridian/database';
import { DEPLOYABLES, deploymentEnvironment, getDeployable, migrationEnvironment, SUBGRAPH_NAMES, type SubgraphName, type Topology } from '@meridian/launcher';
import { deleteRedisKeys, freePort } from '@meridian/testing';
import { bundleDeployable } from '../scripts/bundle';
import { effective, readDockerfile, repoRoot } from './support';

const postgresUrl = process.env.TEST_POSTGRES_URL;
const redisUrl = process.env.TEST_REDIS_URL;
const backend = DEPLOYABLES.filter((deployable) => deployable.kind === 'subgraph' || deployable.kind === 'gateway');

interface Running {
  name: string;
  child: ChildProcess;
  output: () => string;
}

function start(app: string, name: string, env: Record<string, string>): Running {
  const child = spawn(process.execPath, ['--enable-source-maps', getDeployable(name).bundle], {
    cwd: app,
    // Nothing of this machine's environment leaks in but PATH: the image sets nothing else.
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-10_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { name, child, output: () => output };
}

async function waitForStatus(running: Running, url: string, deadlineMs = 90_000): Promise<number> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    if (running.child.exitCode !== null) throw new Error(`${running.name} exited (${running.child.exitCode}):\n${running.output()}`);
    try {
      const response = await fetch(url);
      return response.status;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${running.name} never answered ${url}:\n${running.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

(postgresUrl && redisUrl ? describe : describe.skip)('the production bundles, laid out as in the images', () => {
  const app = mkdtempSync(path.join(os.tmpdir(), 'meridian-image-'));
  const prefix = `test:${randomUUID()}`;
  const databases = new Map<SubgraphName, string>();
  const ports = new Map<string, number>();
  const processes: Running[] = [];
  let topology: Topology;

  beforeAll(async () => {
    for (const deployable of [...backend, getDeployable('migrate')]) await bundleDeployable(deployable, app);
    // What the runtime stage copies from the repository, and the production node_modules
    // (here: the repository's, which is a superset).
    for (const file of ['supergraph.yaml', 'supergraph.graphql', 'prisma']) cpSync(path.join(repoRoot, file), path.join(app, file), { recursive: true });
    symlinkSync(path.join(repoRoot, 'node_modules'), path.join(app, 'node_modules'));
    for (const deployable of backend) ports.set(deployable.name, await freePort());
    for (const service of SUBGRAPH_NAMES) {
      const url = new URL(postgresUrl!);
      url.pathname = `/test_image_${service}_${randomBytes(4).toString('hex')}`;
      databases.set(service, url.toString());
    }
    topology = {
      serviceUrl: (_service, port) => `http://127.0.0.1:${port}`,
      port: (service) => ports.get(service)!,
      bindHost: '127.0.0.1',
      databaseUrl: (service) => databases.get(service)!,
      redisUrl: redisUrl!,
      authSecretsKey: randomBytes(32).toString('base64'),
      publicUrl: 'http://127.0.0.1:4100',
      nodeEnv: 'production',
    };
  }, 120_000);

  afterAll(async () => {
    await Promise.all(
      processes.map(async (running) => {
        if (running.child.exitCode !== null || running.child.signalCode !== null) return;
        const exited = new Promise((resolve) => running.child.once('exit', resolve));
        running.child.kill('SIGTERM');
        const timer = setTimeout(() => running.child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }),
    );
    await Promise.all([...databases.values()].map((url) => dropPostgresDatabase(url).catch(() => undefined)));
    await deleteRedisKeys(redisUrl!, prefix);
    rmSync(app, { recursive: true, force: true });
  });

  it('the migration image creates each service’s database and applies its migrations, given only that database’s URL', () => {
    for (const service of SUBGRAPH_NAMES) {
      const result = spawnSync(process.execPath, [getDeployable('migrate').bundle, 'migrate', service], {
        cwd: app,
        env: { PATH: process.env.PATH ?? '', ...migrationEnvironment(service, topology) },
        encoding: 'utf8',
      });
      expect({ service, status: result.status, stderr: result.stderr }).toEqual({ service, status: 0, stderr: '' });
      expect(result.stdout).toMatch(new RegExp(`^${service}: applied `, 'm'));
    }
  }, 120_000);

  it('every backend image starts in production mode and answers its liveness and readiness probes', async () => {
    const stages = readDockerfile();
    for (const deployable of backend) {
      processes.push(start(app, deployable.name, { ...deploymentEnvironment(deployable.name, topology), EVENT_STREAM_PREFIX: prefix, LOG_LEVEL: 'warn' }));
    }
    for (const [index, deployable] of backend.entries()) {
      const base = `http://127.0.0.1:${ports.get(deployable.name)}`;
      const running = processes[index]!;
      expect({ name: deployable.name, liveness: await waitForStatus(running, `${base}${deployable.probes!.liveness}`) }).toEqual({ name: deployable.name, liveness: 200 });
      expect({ name: deployable.name, readiness: await waitForStatus(running, `${base}${deployable.probes!.readiness}`) }).toEqual({ name: deployable.name, readiness: 200 });
      // The Dockerfile's HEALTHCHECK, as written, pointed at this process's port.
      const healthcheck = JSON.parse(effective(stages, deployable.name, 'HEALTHCHECK')!.replace(/^.*?CMD\s+/, '')) as string[];
      const [command, ...args] = healthcheck.map((part) => part.replace(`:${deployable.port}/`, `:${ports.get(deployable.name)}/`));
      expect(command).toBe('node');
      const check = spawnSync(process.execPath, args, { encoding: 'utf8' });
      expect({ name: deployable.name, healthcheck: check.status }).toEqual({ name: deployable.name, healthcheck: 0 });
    }
  }, 240_000);

  it('serves GraphQL through the gateway bundle across the subgraph bundles', async () => {
    const gateway = `http://127.0.0.1:${ports.get('gateway')}/graphql`;
    const response = await fetch(gateway, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'mutation($e: String!) { signUp(input: { email: $e, password: "correct horse battery", displayName: "Imogen" }) { user { displayName } } }',
        variables: { e: `image-${Date.now()}@example.com` },
      }),
    });
    const body = (await response.json()) as { data?: { signUp: { user: { displayName: string } } }; errors?: unknown };
    expect(body.errors).toBeUndefined();
    expect(body.data?.signUp.user.displayName).toBe('Imogen');
  }, 120_000);
});
