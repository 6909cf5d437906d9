import WebSocket from 'ws';
import {
  codesOf,
  post,
  startProtectedGateway,
  startSubgraphRecorders,
  startTestTokenIssuer,
  wsClient,
  wsRun,
  type Recorders,
  type StartedGateway,
} from './protectionHarness';
import type { TestTokenIssuer } from '@meridian/testing';

const repeat = (count: number, render: (index: number) => string) => Array.from({ length: count }, (_, index) => render(index)).join(' ');

/** One operation per limit, each just past the default (graphql-armor's defaults, our cost limit). */
const OVER_LIMIT = {
  QUERY_TOO_DEEP: '{ me { assignedTasks { edges { node { assignee { assignedTasks { totalCount } } } } } } }',
  TOO_MANY_ALIASES: `{ ${repeat(16, (index) => `a${index}: me { id }`)} }`,
  TOO_MANY_DIRECTIVES: `{ ${repeat(51, () => '... @include(if: true) { __typename }')} }`,
  TOO_MANY_TOKENS: `{ me { ${repeat(1_000, () => 'id')} } }`,
  // 15 x (10 for dashboardStats' @cost + 366 days by @listSize(assumedSize)) = 5640 > 5000;
  // graphql-armor's own cost model, which knows neither directive, puts it far below its limit.
  QUERY_TOO_COSTLY: `{ ${repeat(15, (index) => `s${index}: dashboardStats { days { date tasksCreated } }`)} }`,
} as const;

const SUBSCRIPTION_TOO_DEEP = 'subscription { taskChanged { task { assignee { assignedTasks { edges { node { title } } } } } } }';

describe('operation limits at the gateway', () => {
  let issuer: TestTokenIssuer;
  let recorders: Recorders;
  let started: StartedGateway;

  beforeAll(async () => {
    issuer = await startTestTokenIssuer();
    recorders = await startSubgraphRecorders();
    started = await startProtectedGateway({ recorders, issuer });
  });
  afterAll(async () => {
    await started?.gateway.close();
    await recorders?.close();
    await issuer?.close();
  });

  it('lets an operation within every limit through to the subgraphs (the recorders see it)', async () => {
    const before = recorders.count('user');
    const response = await post(started.url, { query: '{ users(first: 10) { edges { node { id } } } }' });
    expect(response.status).toBe(200);
    expect(recorders.count('user')).toBe(before + 1);
  });

  it('accepts the deepest query of the README (depth 6) and the standard introspection query', async () => {
    const readme = await post(started.url, { query: '{ me { displayName assignedTasks { edges { node { title assignee { displayName } } } } } }' });
    expect(codesOf(readme.body.errors)).not.toContain('QUERY_TOO_DEEP');
    const { getIntrospectionQuery } = await import('graphql');
    const introspection = await post(started.url, { query: getIntrospectionQuery() });
    expect(introspection.status).toBe(200);
    expect(introspection.body.errors).toBeUndefined();
  });

  describe.each(Object.entries(OVER_LIMIT))('%s', (code, query) => {
    it('is refused over HTTP with its own code and HTTP 400, before any subgraph is called', async () => {
      const before = recorders.total();
      const response = await post(started.url, { query });
      expect(response.status).toBe(400);
      expect(codesOf(response.body.errors)).toEqual([code]);
      expect(response.body.errors?.[0]?.extensions?.limit).toEqual(expect.any(Number));
      expect(recorders.total()).toBe(before);
    });

    it('is refused over WebSocket (graphql-ws) with the same code, before any subgraph is called', async () => {
      const client = wsClient(started.wsUrl);
      const before = recorders.total();
      const outcome = await wsRun(client, { query });
      expect(codesOf(outcome.errors)).toEqual([code]);
      expect(recorders.total()).toBe(before);
      await client.dispose();
    });
  });

  it('reports by how much the @cost / @listSize estimate is over', async () => {
    const response = await post(started.url, { query: OVER_LIMIT.QUERY_TOO_COSTLY });
    expect(response.body.errors?.[0]?.extensions).toEqual({ code: 'QUERY_TOO_COSTLY', cost: 5640, limit: 5000 });
  });

  it('reads a slicing argument from the variables: the same text passes or fails with them', async () => {
    const query = 'query Users($first: Int) { users(first: $first) { edges { node { id displayName } } } }';
    const before = recorders.total();
    const big = await post(started.url, { query, variables: { first: 3_000 } });
    expect(codesOf(big.body.errors)).toEqual(['QUERY_TOO_COSTLY']);
    expect(recorders.total()).toBe(before);
    const small = await post(started.url, { query, variables: { first: 10 } });
    expect(codesOf(small.body.errors)).not.toContain('QUERY_TOO_COSTLY');
    expect(recorders.total()).toBe(before + 1);
    const bigAgain = await post(started.url, { query, variables: { first: 3_000 } });
    expect(codesOf(bigAgain.body.errors)).toEqual(['QUERY_TOO_COSTLY']);
  });

  it('refuses a too deep subscription over WebSocket, multipart HTTP and SSE', async () => {
    const before = recorders.total();
    const client = wsClient(started.wsUrl);
    const overWs = await wsRun(client, { query: SUBSCRIPTION_TOO_DEEP });
    expect(codesOf(overWs.errors)).toEqual(['QUERY_TOO_DEEP']);
    await client.dispose();
    for (const accept of ['multipart/mixed;subscriptionSpec=1.0, application/json', 'text/event-stream']) {
      const response = await post(started.url, { query: SUBSCRIPTION_TOO_DEEP }, { accept });
      expect(response.status).toBe(400);
      expect(codesOf(response.body.errors)).toEqual(['QUERY_TOO_DEEP']);
    }
    expect(recorders.total()).toBe(before);
  });

  it('caps the request body: HTTP 413 REQUEST_TOO_LARGE', async () => {
    const before = recorders.total();
    const response = await post(started.url, { query: '{ __typename }', variables: { padding: 'x'.repeat(120_000) } });
    expect(response.status).toBe(413);
    expect(codesOf(response.body.errors)).toEqual(['REQUEST_TOO_LARGE']);
    expect(recorders.total()).toBe(before);
  });

  it('caps WebSocket messages: the connection is closed with 1009 (message too big)', async () => {
    const socket = new WebSocket(started.wsUrl, 'graphql-transport-ws');
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    socket.send(JSON.stringify({ type: 'connection_init' }));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '{ __typename }', variables: { padding: 'x'.repeat(120_000) } } }));
    expect(await closed).toBe(1009);
  });

  it('answers malformed JSON with a GraphQL error, not an HTML page', async () => {
    const response = await post(started.url, '{"query": ');
    expect(response.status).toBe(400);
    expect(codesOf(response.body.errors)).toEqual(['BAD_REQUEST']);
  });
});
