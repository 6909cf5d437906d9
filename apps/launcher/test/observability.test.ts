import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { installInMemoryTracing, SpanKind, SpanStatusCode, type ReadableSpan } from '@meridian/observability';
import { eventually, getTestModes, graphqlOk, preparePlatformEnv, type PreparedEnv } from '@meridian/testing';
import { startPlatform, type Platform } from '../src/platform';
import { collect, primeStreams, signUp as signUpUser, TASK_CHANGED, titleIs, wsClient } from './subscriptionHelpers';

// Installed before any service starts: every service of this process records into it.
const tracing = installInMemoryTracing();

const SIGN_UP = /* GraphQL */ `
  mutation SignUp($input: SignUpInput!) {
    signUp(input: $input) { accessToken user { id displayName } }
  }
`;

function lineCollector() {
  const lines: Record<string, any>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, any>);
      done();
    },
  });
  return { stream, lines };
}

const traceIdOf = (span: ReadableSpan) => span.spanContext().traceId;
const parentIdOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe.each(getTestModes())('observability across the platform ($name)', (mode) => {
  let prepared: PreparedEnv;
  let platform: Platform;
  const logs = lineCollector();

  beforeAll(async () => {
    prepared = await preparePlatformEnv(mode);
    platform = await startPlatform({ env: { ...prepared.env, LOG_LEVEL: 'debug' }, logDestination: logs.stream });
  }, 180_000); // five embedded databases on a busy machine

  afterAll(async () => {
    await platform?.stop();
    await prepared?.cleanup();
  });

  async function signUp(headers: Record<string, string>) {
    const email = `trace-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
    const response = await fetch(platform.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({
        query: SIGN_UP,
        operationName: 'SignUp',
        variables: { input: { email, password: 'correct horse battery staple', displayName: 'Tracy' } },
      }),
    });
    const body = (await response.json()) as { data?: { signUp: { user: { id: string } } }; errors?: unknown[] };
    expect(body.errors).toBeUndefined();
    return body.data!.signUp.user.id;
  }

  it('keeps one trace id from the client through gateway, auth, the outbox and the user consumer', async () => {
    const traceId = 'a'.repeat(16) + Math.random().toString(16).slice(2, 10).padEnd(16, '0');
    const clientSpanId = '1234567890abcdef';
    const requestId = `req-${Math.random().toString(36).slice(2, 10)}`;
    const userId = await signUp({ traceparent: `00-${traceId}-${clientSpanId}-01`, 'x-request-id': requestId });

    const spans = await eventually(() => {
      const inTrace = tracing.spans().filter((span) => traceIdOf(span) === traceId);
      const consumer = inTrace.find((span) => span.name === 'consume auth.user-registered' && span.attributes['messaging.consumer.group.name'] === 'user');
      if (!consumer) throw new Error(`no user consumer span yet (${inTrace.length} spans in the trace)`);
      return inTrace;
    });
    const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
    const gatewayServer = spans.find((span) => span.attributes['meridian.service'] === 'gateway');
    const authServer = spans.find((span) => span.attributes['meridian.service'] === 'auth');
    const consumer = spans.find((span) => span.name === 'consume auth.user-registered' && span.attributes['messaging.consumer.group.name'] === 'user')!;
    // The gateway continues the client's trace; its server span is named after the operation.
    expect(gatewayServer?.name).toBe('mutation SignUp');
    expect(parentIdOf(gatewayServer!)).toBe(clientSpanId);
    expect(gatewayServer?.attributes['meridian.request_id']).toBe(requestId);
    // auth's server span hangs below the gateway's (through Apollo's fetch span).
    expect(authServer?.attributes['meridian.request_id']).toBe(requestId);
    const ancestorsOf = (span: ReadableSpan) => {
      const chain: ReadableSpan[] = [];
      for (let parent = byId.get(parentIdOf(span) ?? ''); parent; parent = byId.get(parentIdOf(parent) ?? '')) chain.push(parent);
      return chain;
    };
    expect(ancestorsOf(authServer!)).toContain(gatewayServer);
    // The consumer's span is a child of the auth request that wrote the event to the outbox.
    expect(ancestorsOf(consumer)).toContain(authServer);
    expect(ancestorsOf(consumer)).toContain(gatewayServer);

    // The consumer's log line carries the producing request's id and the same trace id.
    const provisioned = await eventually(() => {
      const line = logs.lines.find((entry) => entry.msg === 'profile provisioned' && entry.userId === userId);
      if (!line) throw new Error('no "profile provisioned" log line yet');
      return line;
    });
    expect(provisioned).toMatchObject({ name: 'user', traceId, requestId });
    // ...and so do the request logs of the gateway and of auth.
    const requestLogs = logs.lines.filter((entry) => entry.msg === 'graphql request' && entry.requestId === requestId);
    expect(requestLogs.map((entry) => entry.name).sort()).toEqual(expect.arrayContaining(['auth', 'gateway']));
    for (const entry of requestLogs) expect(entry.traceId).toBe(traceId);
  });

  it('starts a trace at the gateway when the client sends none, and still reaches the consumer', async () => {
    const requestId = `req-${Math.random().toString(36).slice(2, 10)}`;
    await signUp({ 'x-request-id': requestId });
    const consumer = await eventually(() => {
      const span = tracing
        .spans()
        .find((candidate) => candidate.name === 'consume auth.user-registered' && candidate.attributes['messaging.consumer.group.name'] === 'user' && tracing.spans().some((other) => other.attributes['meridian.request_id'] === requestId && traceIdOf(other) === traceIdOf(candidate)));
      if (!span) throw new Error('no consumer span in the request\'s trace yet');
      return span;
    });
    const gatewayServer = tracing.spans().find((span) => span.attributes['meridian.service'] === 'gateway' && span.attributes['meridian.request_id'] === requestId)!;
    expect(gatewayServer.parentSpanContext).toBeUndefined();
    expect(traceIdOf(consumer)).toBe(traceIdOf(gatewayServer));
  });

  it('exposes /metrics on every service, each metric documented and on the Grafana dashboard', async () => {
    const root = path.resolve(__dirname, '../../..');
    const dashboard = readFileSync(path.join(root, 'packages/observability/grafana/meridian.json'), 'utf8');
    const operations = readFileSync(path.join(root, 'docs/operations.md'), 'utf8');
    const pages: Record<string, string> = {};
    for (const [name, handle] of Object.entries(platform.services)) {
      const response = await fetch(`${handle.url}/metrics`);
      expect(response.status).toBe(200);
      pages[name] = await response.text();
    }
    // The sign-ups above went through the gateway to auth, and auth's event to the user group.
    expect(pages.gateway).toMatch(/meridian_graphql_requests_total\{operation="SignUp",type="mutation",outcome="ok",service="gateway"\} [1-9]/);
    expect(pages.gateway).toMatch(/meridian_gateway_subgraph_fetches_total\{subgraph="auth",outcome="ok",service="gateway"\} [1-9]/);
    expect(pages.gateway).toMatch(/meridian_gateway_websockets_open\{service="gateway"\} 0/);
    expect(pages.auth).toMatch(/meridian_graphql_requests_total\{operation="SignUp__auth__\d+",type="mutation",outcome="ok",service="auth"\} [1-9]/);
    expect(pages.auth).toMatch(/meridian_outbox_pending_events\{service="auth"\} \d+/);
    expect(pages.user).toMatch(/meridian_events_consumed_total\{group="user",type="auth.user-registered",outcome="ok"\} [1-9]/);
    if (mode.name === 'distributed') expect(pages.user).toMatch(/meridian_db_pool_connections\{state="total",service="user"\} [1-9]/);
    const names = new Set(
      Object.values(pages).flatMap((text) => [...text.matchAll(/^# TYPE (meridian_\w+) /gm)].map((match) => match[1]!)),
    );
    const own = [...names].filter((name) => !/^meridian_(process|nodejs)_/.test(name));
    expect(own.length).toBeGreaterThanOrEqual(18);
    for (const name of own) {
      expect({ name, documented: operations.includes(`\`${name}\``) }).toEqual({ name, documented: true });
      expect({ name, onDashboard: dashboard.includes(name) }).toEqual({ name, onDashboard: true });
    }
  });

  it('never writes the password, tokens or refresh token of a sign-up to the logs', async () => {
    await signUp({});
    const text = logs.lines.map((line) => JSON.stringify(line)).join('\n');
    expect(text).not.toContain('correct horse battery staple');
  });

  it("continues a client's trace over WebSocket: set-up into the subgraph, each event in a trace linked to it and to its producer, queries", async () => {
    const wendy = await signUpUser(platform.gatewayUrl, 'Wendy');
    const newTraceId = () => Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16)).join('');
    const traceId = newTraceId();
    const clientSpanId = 'fedcba9876543210';
    const client = wsClient(platform.gatewayUrl, wendy.accessToken);
    const stream = collect(client.iterate({ query: TASK_CHANGED, operationName: 'TaskChanged', extensions: { traceparent: `00-${traceId}-${clientSpanId}-01` } }));
    const createTask = (title: string, headers?: Record<string, string>) =>
      graphqlOk(platform.gatewayUrl, 'mutation($title: String!) { createTask(input: { title: $title }) { id } }', { token: wendy.accessToken, variables: { title }, headers });
    await primeStreams([stream], () => createTask('probe'));
    // The mutation whose event is followed below, in a trace of its own.
    const mutationTraceId = newTraceId();
    await createTask('Traced', { traceparent: `00-${mutationTraceId}-${clientSpanId}-01` });
    await stream.waitForMatch(titleIs('Traced'));

    // A query on the same socket, with a traceparent of its own.
    const queryTraceId = newTraceId();
    const me = await new Promise<unknown>((resolve, reject) => {
      let result: unknown;
      client.subscribe(
        { query: 'query Me { me { displayName } }', operationName: 'Me', extensions: { traceparent: `00-${queryTraceId}-${clientSpanId}-01` } },
        { next: (value) => (result = value), error: reject, complete: () => resolve(result) },
      );
    });
    expect(me).toEqual({ data: { me: { displayName: 'Wendy' } } });
    await stream.stop();
    await client.dispose();

    const ofService = (span: ReadableSpan, service: string) => span.attributes['meridian.service'] === service;
    // The gateway's set-up span continues the client's trace; the task subgraph's hangs below it.
    const setUp = tracing.spans().find((span) => span.name === 'subscription TaskChanged' && ofService(span, 'gateway') && traceIdOf(span) === traceId);
    expect(setUp).toBeDefined();
    expect(parentIdOf(setUp!)).toBe(clientSpanId);
    const upstream = tracing.spans().find((span) => ofService(span, 'task') && traceIdOf(span) === traceId);
    expect(upstream?.name).toMatch(/^subscription TaskChanged__task__\d+$/);
    expect(parentIdOf(upstream!)).toBe(setUp!.spanContext().spanId);
    // Each event: a span in a trace of its own, linked to the set-up, with the entity fetch to the
    // user subgraph (the actor's displayName) below it.
    const events = await eventually(() => {
      const found = tracing
        .spans()
        .filter((span) => span.name === 'subscription event TaskChanged' && span.links.some((link) => link.context.spanId === setUp!.spanContext().spanId));
      expect(found.length).toBeGreaterThanOrEqual(2);
      return found;
    });
    for (const event of events) {
      expect(traceIdOf(event)).not.toBe(traceId);
      expect(event.parentSpanContext).toBeUndefined();
      expect(event.attributes['meridian.subgraph']).toBe('task');
    }
    const traced = events.find((event) => tracing.spans().some((span) => ofService(span, 'user') && traceIdOf(span) === traceIdOf(event)));
    expect(traced).toBeDefined();
    // In the task subgraph, the event of the traced mutation gets a span (resolver, task read,
    // serialization) in a trace of its own, linked to the upstream subscription's set-up and to
    // the task span that wrote the event.
    const subgraphEvent = await eventually(() => {
      const span = tracing.spans().find((candidate) => ofService(candidate, 'task') && candidate.links.some((link) => link.context.traceId === mutationTraceId));
      if (!span) throw new Error('no task span linked to the mutation yet');
      return span;
    });
    expect(subgraphEvent.name).toBe(upstream!.name.replace(/^subscription /, 'subscription event '));
    expect(subgraphEvent.kind).toBe(SpanKind.CONSUMER);
    expect(subgraphEvent.parentSpanContext).toBeUndefined();
    expect([traceId, mutationTraceId]).not.toContain(traceIdOf(subgraphEvent));
    expect(subgraphEvent.attributes).toMatchObject({ 'meridian.event.type': 'task.created' });
    expect(subgraphEvent.links.map((link) => link.context.spanId)).toContain(upstream!.spanContext().spanId);
    const producerLink = subgraphEvent.links.find((link) => link.context.traceId === mutationTraceId)!;
    const producer = tracing.spans().find((span) => span.spanContext().spanId === producerLink.context.spanId);
    expect(producer && ofService(producer, 'task')).toBe(true);
    expect(producer?.name).toMatch(/^mutation /);
    // The gateway's span of that event links to the subgraph's (mutation -> subgraph event ->
    // gateway event); the subgraph's traceparent stays between the two, clients never see it.
    expect(events.some((event) => event.links.some((link) => link.context.spanId === subgraphEvent.spanContext().spanId))).toBe(true);
    expect(JSON.stringify(stream.received)).not.toContain('traceparent');
    // The query's span is named after the operation and continues its own traceparent.
    const query = tracing.spans().find((span) => ofService(span, 'gateway') && traceIdOf(span) === queryTraceId);
    expect(query?.name).toBe('query Me');
    expect(parentIdOf(query!)).toBe(clientSpanId);
    expect(query?.attributes['network.protocol.name']).toBe('websocket');

    // A subscription the subgraph refuses (anonymous, straight to it) comes back as a result with
    // errors, not a throw: its span is marked as an error all the same.
    const refusedTraceId = newTraceId();
    const anonymous = wsClient(`${platform.services.task.url}/graphql`);
    const refused = collect(anonymous.iterate({ query: 'subscription Refused { taskChanged { cursor } }', extensions: { traceparent: `00-${refusedTraceId}-${clientSpanId}-01` } }));
    await refused.waitForEnd();
    expect(JSON.stringify(refused.failure ?? refused.received)).toContain('UNAUTHENTICATED');
    await anonymous.dispose();
    const refusedSpan = await eventually(() => {
      const span = tracing.spans().find((candidate) => ofService(candidate, 'task') && traceIdOf(candidate) === refusedTraceId);
      expect(span).toBeDefined();
      return span!;
    });
    expect(refusedSpan.name).toBe('subscription Refused');
    expect(refusedSpan.status.code).toBe(SpanStatusCode.ERROR);
  });
});
