/**
 * Micro-benchmark of query plan execution: the federation benchmark's query run N times through
 * Apollo's `executeQueryPlan` and through the gateway's fast executor, alternating, in one
 * process, against the real benchmark subgraphs over HTTP (in a child process, so their CPU is
 * not counted), through the gateway's own subgraph clients. Reports CPU ms per operation of this
 * process (fetch client + executor + GC; `process.cpuUsage()`), wall time, and the ratio.
 *
 *   npx tsx packages/benchmarks/src/executor.ts [--iterations 2000] [--rounds 10] [--warmup 200]
 *     [--concurrency 1] [--query benchmark|single] [--out FILE]
 *
 * A second table, "replayed", runs the same operations against recorded subgraph responses
 * (parsed from their JSON text per fetch, no network): the executors' own CPU without the HTTP
 * client. Both executors answer from the same cached plan; the fast one also looks the compiled
 * operation up per request, as in the gateway. No tracer provider is installed (as in the
 * federation benchmark), so Apollo's spans are no-ops here.
 */
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { buildOperationContext, executeQueryPlan, type GraphQLDataSource } from '@apollo/gateway';
import { operationFromDocument } from '@apollo/federation-internals';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { getOperationAST, parse } from 'graphql';
import { composeSupergraph, readSupergraphConfig } from '@meridian/composition';
import { createOperationExecutor, createSubgraphClients, UNSUPPORTED_OPERATION as UNSUPPORTED, type ServiceMap } from '@meridian/gateway';
import {
  BENCHMARK_QUERY,
  SINGLE_SUBGRAPH_QUERY,
  SUPERGRAPH_CONFIG_PATH,
  expectedBenchmarkResult,
  expectedSingleSubgraphResult,
  startBenchmarkSubgraphs,
} from '@meridian/federation-scenario';
import { parseArgs } from './args';
import { machine } from './report';

interface Params {
  iterations: number;
  rounds: number;
  warmup: number;
  concurrency: number;
  query: 'benchmark' | 'single';
  out: string | null;
}

const HELP = `usage: npx tsx packages/benchmarks/src/executor.ts [options]
  --iterations N   measured operations per executor (default 2000), split into --rounds
  --rounds N       alternations Apollo/fast (ABBA order; default 10)
  --warmup N       unmeasured operations per executor first (default 200)
  --concurrency N  operations in flight at once (default 1)
  --query NAME     benchmark (default: the public benchmark's query) | single (one subgraph)
  --out FILE       also write the result as JSON`;

function parseParams(argv: readonly string[]): Params {
  // env: null, no BENCH_* fallbacks (BENCH_WARMUP, say, is a fraction of events.ts's run, not operations)
  const { raw, number } = parseArgs(argv, { help: HELP, values: ['iterations', 'rounds', 'warmup', 'concurrency', 'query', 'out'], env: null });
  const query = raw('query') ?? 'benchmark';
  if (query !== 'benchmark' && query !== 'single') throw new Error(`--query must be benchmark or single, got "${query}"`);
  return {
    iterations: number('iterations', 2000),
    rounds: number('rounds', 10),
    warmup: number('warmup', 200),
    concurrency: number('concurrency', 1),
    query,
    out: raw('out') ?? null,
  };
}

/** The child process: the four benchmark subgraphs, until the parent goes away. */
async function serveSubgraphs() {
  const subgraphs = await startBenchmarkSubgraphs();
  process.send?.({ type: 'ready', urls: subgraphs.urls });
  process.on('disconnect', () => void subgraphs.close().finally(() => process.exit(0)));
}

function startSubgraphProcess(): Promise<{ urls: Record<string, string>; stop: () => void }> {
  const child = fork(__filename, ['--serve-subgraphs'], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the subgraph process exited (${code})`)));
    child.once('message', (message: { urls: Record<string, string> }) => resolve({ urls: message.urls, stop: () => child.disconnect() }));
  });
}

/** Records each subgraph answer once (over HTTP), then replays its JSON text, parsed anew per fetch. */
function replaying(services: ServiceMap): { record: ServiceMap; replay: ServiceMap } {
  const recorded = new Map<string, string>();
  const record: ServiceMap = Object.create(null);
  const replay: ServiceMap = Object.create(null);
  for (const [name, service] of Object.entries(services)) {
    const keyOf = (options: Parameters<GraphQLDataSource['process']>[0]) => `${name}\n${options.request.query}\n${JSON.stringify(options.request.variables)}`;
    record[name] = {
      async process(options) {
        const response = await service.process(options);
        recorded.set(keyOf(options), JSON.stringify(response));
        return response;
      },
    };
    replay[name] = {
      async process(options) {
        const text = recorded.get(keyOf(options));
        if (text === undefined) throw new Error(`no recorded answer of ${name} for this fetch`);
        return JSON.parse(text);
      },
    };
  }
  return { record, replay };
}

async function main() {
  if (process.argv.includes('--serve-subgraphs')) return serveSubgraphs();
  const params = parseParams(process.argv.slice(2));
  const query = params.query === 'benchmark' ? BENCHMARK_QUERY : SINGLE_SUBGRAPH_QUERY;
  const expected = JSON.stringify(params.query === 'benchmark' ? expectedBenchmarkResult() : expectedSingleSubgraphResult());

  const subgraphs = await startSubgraphProcess();
  const config = readSupergraphConfig(SUPERGRAPH_CONFIG_PATH);
  for (const entry of config.subgraphs) entry.routingUrl = subgraphs.urls[entry.name]!;
  const composed = composeSupergraph(config);
  if (!composed.ok) throw new Error(composed.errors.join('\n'));

  const executor = createOperationExecutor({ supergraphSdl: composed.supergraphSdl });
  const clients = createSubgraphClients();
  const overHttp: ServiceMap = Object.create(null);
  for (const { name, url } of executor.subgraphs) overHttp[name] = clients.get(name, url);
  const { record, replay } = replaying(overHttp);

  const document = parse(query);
  const operationName = getOperationAST(document)?.name?.value;
  const queryHash = createHash('sha256').update(query).digest('hex');
  // What ApolloGateway caches per operation: the plan and (for executeQueryPlan) the operation context.
  const plan = executor.queryPlanner.buildQueryPlan(operationFromDocument(executor.apiSchema, document, { operationName }));
  const operationContext = buildOperationContext({ schema: executor.schema, operationDocument: document, operationName });
  const requestContext = () =>
    ({
      request: { query, operationName, variables: {} },
      document,
      source: query,
      queryHash,
      operationName: operationName ?? null,
      operation: operationContext.operation,
      schema: executor.schema,
      metrics: {},
      context: { requestId: 'executor-benchmark', client: {} },
      logger: console,
    }) as unknown as GatewayGraphQLRequestContext;

  type Runner = (services: ServiceMap) => Promise<unknown>;
  const runners: Record<'apollo' | 'fast', Runner> = {
    apollo: (services) => executeQueryPlan(plan, services, requestContext(), operationContext, executor.supergraphSchema, executor.apiSchema),
    fast: async (services) => {
      const result = await executor.execute(requestContext(), services);
      if (result === UNSUPPORTED) throw new Error('the fast executor does not support the benchmark query');
      return result;
    },
  };

  // Both must give the expected result (and the same bytes) before anything is measured.
  const apolloFirst = JSON.stringify(await runners.apollo(record));
  const fastFirst = JSON.stringify(await runners.fast(record));
  if (apolloFirst !== expected || fastFirst !== expected) throw new Error('an executor did not return the expected result');

  async function batch(runner: Runner, services: ServiceMap, count: number) {
    let next = 0;
    const worker = async () => {
      while (next < count) {
        next += 1;
        await runner(services);
      }
    };
    await Promise.all(Array.from({ length: Math.min(params.concurrency, count) }, worker));
  }

  async function measure(label: string, services: ServiceMap) {
    for (const name of ['apollo', 'fast'] as const) await batch(runners[name], services, params.warmup);
    const totals = { apollo: { cpuMicros: 0, wallMs: 0, ops: 0 }, fast: { cpuMicros: 0, wallMs: 0, ops: 0 } };
    const perRound = Math.max(1, Math.floor(params.iterations / params.rounds));
    for (let round = 0; round < params.rounds; round++) {
      // ABBA: neither executor always runs first (warmer caches, or a busier moment of the machine).
      const order = round % 2 === 0 ? (['apollo', 'fast'] as const) : (['fast', 'apollo'] as const);
      for (const name of order) {
        const cpu = process.cpuUsage();
        const started = performance.now();
        await batch(runners[name], services, perRound);
        const used = process.cpuUsage(cpu);
        totals[name].cpuMicros += used.user + used.system;
        totals[name].wallMs += performance.now() - started;
        totals[name].ops += perRound;
      }
    }
    const row = (name: 'apollo' | 'fast') => ({
      cpuMsPerOp: round3(totals[name].cpuMicros / 1000 / totals[name].ops),
      wallMsPerOp: round3(totals[name].wallMs / totals[name].ops),
      operations: totals[name].ops,
    });
    const result = { label, apollo: row('apollo'), fast: row('fast'), cpuRatio: round3(row('apollo').cpuMsPerOp / row('fast').cpuMsPerOp) };
    console.log(
      `${label.padEnd(10)} Apollo executeQueryPlan ${String(result.apollo.cpuMsPerOp).padStart(7)} CPU ms/op (${result.apollo.wallMsPerOp} ms wall)  ` +
        `fast executor ${String(result.fast.cpuMsPerOp).padStart(7)} CPU ms/op (${result.fast.wallMsPerOp} ms wall)  ratio ${result.cpuRatio}x`,
    );
    return result;
  }

  console.log(`query: ${params.query}, ${params.iterations} operations per executor in ${params.rounds} rounds, concurrency ${params.concurrency}`);
  const http = await measure('over HTTP', overHttp);
  const replayed = await measure('replayed', replay);
  subgraphs.stop();
  await clients.close();
  const report = { benchmark: 'executor', date: new Date().toISOString(), params, machine: machine(), results: [http, replayed] };
  console.log(`machine load average (1/5/15 min): ${report.machine.loadAverage.join(' / ')}`);
  if (params.out) writeFileSync(params.out, `${JSON.stringify(report, null, 2)}\n`);
}

function round3(value: number) {
  return Math.round(value * 1000) / 1000;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
