/**
 * Federation gateway benchmark: the public graphql-gateways-benchmark scenario (four subgraphs,
 * its query, 50 concurrent connections) against our gateway, stock Apollo Gateway and Hive
 * Gateway in one run, plus gateway overhead on a single-subgraph query and a query across our
 * own platform's subgraphs.
 *
 *   npx tsx packages/benchmarks/src/federation/main.ts [--duration-s 20] [--warmup-s 5] [--connections 50]
 *     [--gateways ours,stock,hive] [--no-single] [--no-platform] [--profile] [--out FILE | --no-out]
 *
 * Processes: this orchestrator; one for the four subgraphs; one per gateway (one at a time, so
 * gateways never compete with each other); one for the load (autocannon); for the platform
 * scenario, one for the platform (startPlatform, embedded) and one for our gateway in front of it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { composeSupergraph, readSupergraphConfig, routingUrlVariable } from '@meridian/composition';
import { parseArgs } from '../args';
import { machine, packageDir } from '../report';
import { GATEWAY_KINDS, type GatewayKind } from './gateways';
import { bodyMatches, type LoadResult, type LoadSpec } from './load';
import { BENCHMARK_QUERY, SINGLE_SUBGRAPH_QUERY, SUPERGRAPH_CONFIG_PATH, expectedBenchmarkResult, expectedSingleSubgraphResult } from '@meridian/federation-scenario';
import { renderChart } from './chart';

interface Params {
  durationS: number;
  warmupS: number;
  connections: number;
  timeoutS: number;
  gateways: GatewayKind[];
  single: boolean;
  platform: boolean;
  profile: boolean;
  out: string | null;
  chart: string | null;
}

const HELP = `usage: npx tsx packages/benchmarks/src/federation/main.ts [options]
  --duration-s N     measured seconds per target (BENCH_DURATION_S, default 20)
  --warmup-s N       warm-up seconds per target, not counted (BENCH_WARMUP_S, default 5)
  --connections N    concurrent connections of the load driver (BENCH_CONNECTIONS, default 50)
  --timeout-s N      a response slower than this counts as a timeout, making the run invalid (BENCH_TIMEOUT_S, default 60)
  --gateways LIST    comma-separated subset of ${GATEWAY_KINDS.join(',')} (BENCH_GATEWAYS, default all)
  --no-single        skip the single-subgraph overhead scenario
  --no-platform      skip the scenario on our own platform's subgraphs
  --profile          --cpu-prof our gateway's process into $TMPDIR/federation-bench-profiles (single-subgraph run: .../single)
  --out FILE         result JSON (default packages/benchmarks/results/federation-<date>.json); --no-out: none
  --chart FILE       SVG chart of the run (default docs/benchmarks-federation.svg with the default --out); --no-chart: none`;

function parseParams(argv: readonly string[]): Params {
  const { raw, given, flag, number } = parseArgs(argv, {
    help: HELP,
    values: ['duration-s', 'warmup-s', 'connections', 'timeout-s', 'gateways', 'out', 'chart'],
    flags: ['no-single', 'no-platform', 'profile', 'no-out', 'no-chart'],
  });
  const gateways = (raw('gateways') ?? GATEWAY_KINDS.join(',')).split(',').map((name) => name.trim()).filter(Boolean);
  for (const name of gateways) {
    if (!(GATEWAY_KINDS as readonly string[]).includes(name)) throw new Error(`--gateways: unknown gateway "${name}" (known: ${GATEWAY_KINDS.join(', ')})`);
  }
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
  const out = flag('no-out') ? null : path.resolve(given('out') ?? path.join(packageDir(), 'results', `federation-${stamp}.json`));
  const defaultChart = flag('out') || !out ? null : path.resolve(packageDir(), '..', '..', 'docs', 'benchmarks-federation.svg');
  return {
    durationS: number('duration-s', 20),
    warmupS: number('warmup-s', 5, { min: 0 }),
    connections: number('connections', 50),
    timeoutS: number('timeout-s', 60),
    gateways: gateways as GatewayKind[],
    single: !flag('no-single'),
    platform: !flag('no-platform'),
    profile: flag('profile'),
    out,
    chart: flag('no-chart') ? null : flag('chart') ? path.resolve(given('chart')!) : defaultChart,
  };
}

// ---------------------------------------------------------------------------------------------
// Children

interface Child {
  name: string;
  process: ChildProcess;
  request<T = Record<string, any>>(message: Record<string, unknown>, answer: string): Promise<T>;
  stop(): Promise<void>;
}

const children = new Set<Child>();

function spawnChild(name: string, role: string, options: unknown, { env = {}, execArgv = [] as string[] } = {}): Promise<Child & { ready: Record<string, any> }> {
  const proc = fork(path.join(__dirname, 'child.ts'), [], {
    execArgv: [...process.execArgv, ...execArgv],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<string, { resolve: (value: any) => void; reject: (error: Error) => void }>();
  const fail = (error: Error) => {
    for (const pending of waiting.values()) pending.reject(error);
    waiting.clear();
  };
  proc.on('message', (message: { type: string; message?: string }) => {
    if (message.type === 'failed') return fail(new Error(`${name}: ${message.message}`));
    const pending = waiting.get(message.type);
    waiting.delete(message.type);
    pending?.resolve(message);
  });
  proc.on('exit', (code, signal) => fail(new Error(`${name} exited (${signal ?? code})`)));
  const child: Child = {
    name,
    process: proc,
    request(message, answer) {
      return new Promise((resolve, reject) => {
        waiting.set(answer, { resolve, reject });
        proc.send(message);
      });
    },
    async stop() {
      children.delete(child);
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.send({ type: 'stop' });
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
  children.add(child);
  return child.request<Record<string, any>>({ type: 'start', role, options }, 'ready').then((ready) => ({ ...child, ready }));
}

interface ProcessStats {
  cpuMicros: number;
  peakRssBytes: number;
}

// ---------------------------------------------------------------------------------------------
// Measurement

const invalidTargets: string[] = [];

interface Measured {
  target: string;
  load: LoadResult;
  /** CPU of the measured process (the gateway; the subgraph process for "direct") during the measured window. */
  cpuSeconds: number;
  cpuSecondsPer1000Requests: number;
  requestsPerCpuSecond: number;
  peakRssMiB: number;
}

async function checkOnce(url: string, body: string, expected: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await response.text();
  if (response.status !== 200 || !bodyMatches(expected)(text)) {
    throw new Error(`${url} did not return the expected result (HTTP ${response.status}): ${text.slice(0, 600)}`);
  }
}

async function measure(target: string, load: Child, measured: Child, spec: Omit<LoadSpec, 'durationS'>, params: Params): Promise<Measured> {
  await checkOnce(spec.url, spec.body, spec.expected, spec.headers);
  if (params.warmupS > 0) {
    const warm = await load.request<{ result: LoadResult }>({ type: 'load', spec: { ...spec, durationS: params.warmupS } }, 'loaded');
    if (warm.result.non2xx + warm.result.mismatches + warm.result.errors + warm.result.timeouts > 0) throw new Error(`${target}: invalid responses during warm-up: ${JSON.stringify(warm.result)}`);
  }
  const before = await measured.request<ProcessStats>({ type: 'stats' }, 'stats');
  const { result } = await load.request<{ result: LoadResult }>({ type: 'load', spec: { ...spec, durationS: params.durationS } }, 'loaded');
  const after = await measured.request<ProcessStats>({ type: 'stats' }, 'stats');
  const cpuSeconds = (after.cpuMicros - before.cpuMicros) / 1e6;
  const row: Measured = {
    target,
    load: result,
    cpuSeconds: round(cpuSeconds, 3),
    cpuSecondsPer1000Requests: round((cpuSeconds / result.requests) * 1000, 4),
    requestsPerCpuSecond: round(result.requests / cpuSeconds, 1),
    peakRssMiB: round(after.peakRssBytes / 2 ** 20, 1),
  };
  console.log(
    `${target.padEnd(34)} ${String(result.requestsPerSecond).padStart(8)} req/s  p50 ${result.latencyMs.p50} p95 ${result.latencyMs.p95} p99 ${result.latencyMs.p99} ms  ` +
      `${row.cpuSecondsPer1000Requests} CPU-s/1k  ${row.requestsPerCpuSecond} req/CPU-s  peak RSS ${row.peakRssMiB} MiB  ${result.valid ? 'valid' : 'INVALID'}`,
  );
  if (!result.valid) {
    // Kept in the report (a gateway that fails under load is a result), but the run exits with 1.
    invalidTargets.push(`${target}: ${result.non2xx} non-2xx, ${result.mismatches} wrong bodies, ${result.errors} errors, ${result.timeouts} timeouts`);
    if (result.firstMismatch) console.log(`  first wrong body: ${result.firstMismatch.slice(0, 300)}`);
  }
  return row;
}

function round(value: number, digits = 2) {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

const ratio = (a: number, b: number) => round(a / b, 2);

// ---------------------------------------------------------------------------------------------

async function main() {
  const params = parseParams(process.argv.slice(2));
  const started = new Date();
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'federation-bench-'));
  const profileDir = path.join(os.tmpdir(), 'federation-bench-profiles');
  const gatewayEnv = { NODE_ENV: 'production' };
  try {
    const subgraphs = await spawnChild('subgraphs', 'subgraphs', {});
    const urls = subgraphs.ready.urls as Record<string, string>;

    // The benchmark's supergraph.yaml with the subgraphs' real URLs, composed by @meridian/composition.
    const supergraphConfigPath = SUPERGRAPH_CONFIG_PATH;
    const config = readSupergraphConfig(supergraphConfigPath);
    for (const entry of config.subgraphs) {
      const url = urls[entry.name];
      if (!url) throw new Error(`supergraph.yaml names subgraph "${entry.name}" that the benchmark does not start`);
      entry.routingUrl = url;
    }
    const composed = composeSupergraph(config);
    if (!composed.ok) throw new Error(`composition failed:\n${composed.errors.join('\n')}`);
    const supergraphPath = path.join(scratch, 'supergraph.graphql');
    writeFileSync(supergraphPath, composed.supergraphSdl);
    const routingEnv = Object.fromEntries(config.subgraphs.map((entry) => [routingUrlVariable(entry.name), entry.routingUrl]));

    const load = await spawnChild('load', 'load', {});
    const benchBody = JSON.stringify({ query: BENCHMARK_QUERY });
    const rows: Record<string, Measured> = {};

    for (const kind of params.gateways) {
      const execArgv = params.profile && kind === 'ours' ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
      const gateway = await spawnChild(`gateway:${kind}`, 'gateway', { kind, supergraphSdl: composed.supergraphSdl, supergraphPath, supergraphConfigPath, routingEnv }, { env: gatewayEnv, execArgv });
      rows[kind] = await measure(`federation: ${kind}`, load, gateway, { url: gateway.ready.url, body: benchBody, expected: expectedBenchmarkResult(), connections: params.connections, timeoutS: params.timeoutS }, params);
      await gateway.stop();
    }

    let single: Record<string, Measured> | undefined;
    if (params.single) {
      const body = JSON.stringify({ query: SINGLE_SUBGRAPH_QUERY });
      const spec = { body, expected: expectedSingleSubgraphResult(), connections: params.connections, timeoutS: params.timeoutS };
      const direct = await measure('single subgraph: products directly', load, subgraphs, { ...spec, url: urls.products! }, params);
      const execArgv = params.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.join(profileDir, 'single')}`] : [];
      const gateway = await spawnChild('gateway:ours', 'gateway', { kind: 'ours', supergraphSdl: composed.supergraphSdl, supergraphPath, supergraphConfigPath, routingEnv }, { env: gatewayEnv, execArgv });
      const through = await measure('single subgraph: through ours', load, gateway, { ...spec, url: gateway.ready.url }, params);
      await gateway.stop();
      single = { direct, through };
    }

    let platform: Measured | undefined;
    if (params.platform) {
      const platformChild = await spawnChild('platform', 'platform', {});
      const { token, userId, tasks, routing } = platformChild.ready as { token: string; userId: string; tasks: { id: string; title: string }[]; routing: Record<string, string> };
      const gateway = await spawnChild('platform-gateway', 'platform-gateway', { routing }, { env: gatewayEnv });
      const query = `query PlatformTasks { me { id displayName assignedTasks(first: 10) { edges { node { id title status createdBy { displayName } } } } } }`;
      const expected = {
        data: {
          me: {
            id: userId,
            displayName: 'Bench Owner',
            assignedTasks: { edges: tasks.map((task) => ({ node: { id: task.id, title: task.title, status: 'TODO', createdBy: { displayName: 'Bench Owner' } } })) },
          },
        },
      };
      platform = await measure('platform: user -> task -> user, ours', load, gateway, {
        url: gateway.ready.url, body: JSON.stringify({ query }), expected, connections: params.connections, timeoutS: params.timeoutS, headers: { authorization: `Bearer ${token}` },
      }, params);
      await gateway.stop();
      await platformChild.stop();
    }
    await load.stop();
    await subgraphs.stop();

    const ours = rows.ours;
    const ratios: Record<string, Record<string, number>> = {};
    for (const other of ['stock', 'hive'] as const) {
      const row = rows[other];
      if (!ours || !row) continue;
      ratios[`ours/${other}`] = {
        requestsPerSecond: ratio(ours.load.requestsPerSecond, row.load.requestsPerSecond),
        requestsPerCpuSecond: ratio(ours.requestsPerCpuSecond, row.requestsPerCpuSecond),
        p99: ratio(ours.load.latencyMs.p99, row.load.latencyMs.p99),
        peakRss: ratio(ours.peakRssMiB, row.peakRssMiB),
      };
    }
    if (single) ratios['single: through ours/direct'] = { requestsPerSecond: ratio(single.through!.load.requestsPerSecond, single.direct!.load.requestsPerSecond) };
    console.log('ratios', JSON.stringify(ratios, null, 2));

    const report = {
      benchmark: 'federation',
      startedAt: started.toISOString(),
      params: { ...params, out: undefined, chart: undefined },
      machine: machine(),
      gateways: rows,
      singleSubgraph: single,
      platform,
      ratios,
      invalidTargets,
    };
    if (params.out) {
      mkdirSync(path.dirname(params.out), { recursive: true });
      writeFileSync(params.out, `${JSON.stringify(report, null, 2)}\n`);
      console.log(`wrote ${params.out}`);
    }
    if (params.chart) {
      writeFileSync(params.chart, renderChart(report));
      console.log(`wrote ${params.chart}`);
    }
    if (params.profile) console.log(`profiles of our gateway in ${profileDir}`);
    if (invalidTargets.length > 0) throw new Error(`invalid results (not comparable):\n${invalidTargets.join('\n')}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    await Promise.all([...children].map((child) => child.stop().catch(() => undefined)));
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    for (const child of children) child.process.kill('SIGKILL');
    process.exit(1);
  },
);
