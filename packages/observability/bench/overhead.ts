/**
 * What the per-request instrumentation costs (not a test): the work service-kit and the gateway add
 * to every GraphQL request — a server span (tracing off: non-recording), context switch, metrics
 * (two counters, one histogram) and one request log line — timed in a tight loop, and compared with
 * the cheapest real request (`{ hello }` over HTTP to a subgraph server on this machine).
 *
 *   npx tsx packages/observability/bench/overhead.ts [iterations=200000] [requests=2000]
 */
import { parse } from 'graphql';
import pino from 'pino';
import { createLogger, createSubgraphServer } from '@meridian/service-kit';
import { createTokenVerifier } from '@meridian/tokens';
import {
  contextFromHeaders,
  createGraphQLMetrics,
  createServiceRegistry,
  getTracer,
  initTracing,
  otelContext,
  otelTrace,
  SpanKind,
  withRequestId,
} from '../src';

const iterations = Number(process.argv[2] ?? 200_000);
const requests = Number(process.argv[3] ?? 2_000);
if (!Number.isInteger(iterations) || iterations < 1 || !Number.isInteger(requests) || requests < 1) {
  throw new Error('Usage: overhead.ts [iterations (positive integer)] [requests (positive integer)]');
}

initTracing({ serviceName: 'bench' }); // the default: no OTLP endpoint
const tracer = getTracer('bench');
const metrics = createGraphQLMetrics(createServiceRegistry('bench'));
const logger = createLogger('bench', 'info', pino.destination({ dest: '/dev/null', sync: true }));
const headers = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'x-request-id': 'bench' };

function instrumentedRequest(index: number) {
  const parent = withRequestId(contextFromHeaders(headers), 'bench');
  const span = tracer.startSpan('POST /graphql', { kind: SpanKind.SERVER, attributes: { 'meridian.request_id': 'bench' } }, parent);
  otelContext.with(otelTrace.setSpan(parent, span), () => {
    span.updateName('query Op');
    metrics.record({ operation: `Op${index % 20}`, type: 'query', seconds: 0.003, errorCodes: [] });
    logger.child({ requestId: 'bench' }).info({ operation: 'Op', type: 'query', durationMs: 3 }, 'graphql request');
  });
  span.end();
}

function timeLoop(label: string, fn: (index: number) => void): number {
  for (let index = 0; index < 10_000; index++) fn(index); // warm-up
  const start = process.hrtime.bigint();
  for (let index = 0; index < iterations; index++) fn(index);
  const microseconds = Number(process.hrtime.bigint() - start) / 1000 / iterations;
  console.log(`${label}: ${microseconds.toFixed(2)} µs per request`);
  return microseconds;
}

async function main() {
  const instrumentation = timeLoop('instrumentation (span off + metrics + log line)', instrumentedRequest);
  const metricsOnly = timeLoop('metrics only', (index) => metrics.record({ operation: `Op${index % 20}`, type: 'query', seconds: 0.003, errorCodes: [] }));

  const server = createSubgraphServer({
    name: 'bench',
    typeDefs: parse('type Query { hello: String! }'),
    resolvers: { Query: { hello: () => 'hello' } },
    verifier: createTokenVerifier({ jwksUrl: 'http://127.0.0.1:9/jwks.json', issuer: 'i', audience: 'a' }),
    logger,
    createContext: (base) => base,
  });
  const { url } = await server.listen(0);
  const body = JSON.stringify({ query: 'query Op { hello }' });
  const send = () => fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }).then((response) => response.text());
  for (let index = 0; index < 200; index++) await send();
  const latencies: number[] = [];
  for (let index = 0; index < requests; index++) {
    const start = performance.now();
    await send();
    latencies.push((performance.now() - start) * 1000);
  }
  await server.close();
  latencies.sort((a, b) => a - b);
  const median = latencies[Math.floor(latencies.length / 2)]!;
  console.log(`cheapest request ({ hello }, HTTP, sequential): median ${median.toFixed(0)} µs`);
  console.log(`instrumentation / request: ${((instrumentation / median) * 100).toFixed(2)} % (metrics alone ${((metricsOnly / median) * 100).toFixed(2)} %)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
