import { Writable } from 'node:stream';
import { parse } from 'graphql';
import { createTokenVerifier } from '@meridian/tokens';
import { installInMemoryTracing } from '@meridian/observability';
import { createLogger, createSubgraphServer, loadServiceConfig, type Logger } from '../src';

const tracing = installInMemoryTracing();

function memoryLogger(name: string): { logger: Logger; lines: Record<string, any>[]; text(): string } {
  const chunks: string[] = [];
  const logger = createLogger(name, 'debug', new Writable({ write: (chunk, _encoding, done) => (chunks.push(chunk.toString()), done()) }));
  return {
    logger,
    text: () => chunks.join(''),
    get lines() {
      return chunks.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, any>);
    },
  };
}

describe('log redaction', () => {
  it('never writes a password, access or refresh token, TOTP secret or authorization header', () => {
    const logs = memoryLogger('redaction');
    const secrets = ['pw-correct-horse', 'access-eyJhbGciOi', 'refresh-0123456789', 'JBSWY3DPEHPK3PXP', 'Bearer abc.def.ghi', 'reset-token-42', 'new-pw-77'];
    logs.logger.info({ password: secrets[0], accessToken: secrets[1], refreshToken: secrets[2] }, 'top level');
    logs.logger.info({ variables: { input: { password: secrets[0], refreshToken: secrets[2], newPassword: secrets[6] } } }, 'graphql variables');
    logs.logger.info({ result: { signUp: { accessToken: secrets[1], refreshToken: secrets[2] } } }, 'nested result');
    logs.logger.info({ enrollment: { totpSecret: secrets[3], secret: secrets[3] }, token: secrets[5] }, 'mfa');
    logs.logger.child({ requestId: 'r1' }).info({ req: { headers: { authorization: secrets[4], cookie: 'sid=1' } } }, 'request');
    const text = logs.text();
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(logs.lines).toHaveLength(5);
    expect(logs.lines[1]?.variables.input).toEqual({ password: '[redacted]', refreshToken: '[redacted]', newPassword: '[redacted]' });
    expect(logs.lines[4]?.requestId).toBe('r1');
  });
});

describe('subgraph server observability', () => {
  const logs = memoryLogger('obs-test');
  const server = createSubgraphServer({
    name: 'obs-test',
    typeDefs: parse(`type Query { hello: String! failing: String }`),
    resolvers: {
      Query: {
        hello: (_: unknown, __: unknown, context: { logger: Logger }) => {
          context.logger.info('resolving hello');
          return 'hello';
        },
        failing: () => {
          throw new Error('boom');
        },
      },
    },
    verifier: createTokenVerifier({ jwksUrl: 'http://127.0.0.1:9/jwks.json', issuer: 'i', audience: 'a' }),
    logger: logs.logger,
    createContext: (base) => base,
  });
  let url = '';

  beforeAll(async () => {
    url = (await server.listen(0)).url;
  });
  afterAll(() => server.close());

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('continues the caller trace: server span named after the operation, logs with trace and request ids', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const parentId = 'b7ad6b7169203331';
    const response = await post({ query: 'query Greeting { hello }', operationName: 'Greeting' }, { traceparent: `00-${traceId}-${parentId}-01`, 'x-request-id': 'req-42' });
    expect(response.status).toBe(200);
    const span = tracing.spans().find((candidate) => candidate.spanContext().traceId === traceId);
    expect(span?.name).toBe('query Greeting');
    expect(span?.parentSpanContext?.spanId).toBe(parentId);
    expect(span?.attributes).toMatchObject({ 'meridian.request_id': 'req-42', 'graphql.operation.name': 'Greeting', 'http.response.status_code': 200 });
    const resolverLine = logs.lines.find((line) => line.msg === 'resolving hello');
    expect(resolverLine).toMatchObject({ requestId: 'req-42', traceId, spanId: span?.spanContext().spanId });
    const requestLine = logs.lines.find((line) => line.msg === 'graphql request' && line.requestId === 'req-42');
    expect(requestLine).toMatchObject({ operation: 'Greeting', type: 'query', traceId });
    expect(typeof requestLine?.durationMs).toBe('number');
  });

  it('replaces an unusable x-request-id instead of logging it', async () => {
    await post({ query: '{ hello }' }, { 'x-request-id': 'bad id\twith spaces and {json}' });
    const line = logs.lines.filter((entry) => entry.msg === 'graphql request').at(-1);
    expect(line?.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('serves Prometheus metrics per operation, errors by code, with bounded labels and process metrics', async () => {
    await post({ query: 'query Greeting { hello }' });
    await post({ query: 'query Broken { failing }' });
    await post({ query: '{ hello }' });
    await post({ query: 'query Typo { nope }' });
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    const sample = (pattern: RegExp) => Number(text.match(pattern)?.[1] ?? NaN);
    expect(sample(/meridian_graphql_requests_total\{operation="Greeting",type="query",outcome="ok",service="obs-test"\} (\d+)/)).toBeGreaterThanOrEqual(2);
    expect(sample(/meridian_graphql_requests_total\{operation="Broken",type="query",outcome="error",service="obs-test"\} (\d+)/)).toBe(1);
    expect(sample(/meridian_graphql_errors_total\{operation="Broken",code="INTERNAL_SERVER_ERROR",service="obs-test"\} (\d+)/)).toBe(1);
    expect(sample(/meridian_graphql_requests_total\{operation="__anonymous",type="query",outcome="ok",service="obs-test"\} (\d+)/)).toBeGreaterThanOrEqual(1);
    // A document that fails validation: its name is not trusted as a label.
    expect(sample(/meridian_graphql_requests_total\{operation="__invalid",type="unknown",outcome="error",service="obs-test"\} (\d+)/)).toBe(1);
    expect(text).not.toContain('operation="Typo"');
    expect(text).toMatch(/meridian_graphql_request_duration_seconds_bucket\{le="0.005",service="obs-test",operation="Greeting",type="query"\}/);
    expect(text).toMatch(/^meridian_process_resident_memory_bytes \d+/m);
  });
});

describe('tracing configuration', () => {
  it('is off unless an OTLP endpoint is set, and names a bad variable', () => {
    expect(loadServiceConfig('user', 4001, {}).telemetry).toEqual({ sampleRatio: 1 });
    expect(loadServiceConfig('user', 4001, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_SAMPLE_RATIO: '0.25' }).telemetry).toEqual({
      otlpEndpoint: 'http://collector:4318',
      sampleRatio: 0.25,
    });
    expect(() => loadServiceConfig('user', 4001, { OTEL_TRACES_SAMPLE_RATIO: '2' })).toThrow(/OTEL_TRACES_SAMPLE_RATIO/);
    expect(() => loadServiceConfig('user', 4001, { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT: must be an absolute URL/);
  });
});
