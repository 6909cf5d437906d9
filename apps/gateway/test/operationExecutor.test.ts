import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { ApolloGateway, buildOperationContext, executeQueryPlan } from '@apollo/gateway';
import { operationFromDocument } from '@apollo/federation-internals';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { QueryPlanner, type FetchNode } from '@apollo/query-planner';
import { GraphQLError, OperationTypeNode, getOperationAST, parse } from 'graphql';
import { composeSupergraph, readSupergraphConfig, type SupergraphConfig } from '@meridian/composition';
import { freePort } from '@meridian/testing';
// The federation benchmark's scenario (its four subgraphs and its queries), reused as is.
import {
  BENCHMARK_QUERY,
  SINGLE_SUBGRAPH_QUERY,
  SUPERGRAPH_CONFIG_PATH,
  expectedBenchmarkResult,
  startBenchmarkSubgraphs,
  type RunningSubgraphs,
} from '@meridian/federation-scenario';
import { createOperationExecutor, UNSUPPORTED, type OperationExecutor, type ServiceMap } from '../src/execution/operationExecutor';
import { createFederationGateway } from '../src/execution/federationGateway';
import { compilePlan } from '../src/execution/compilePlan';
import { createSubgraphClients, DEFAULT_SUBGRAPH_CLIENT_OPTIONS, type SubgraphClients } from '../src/subgraphs/subgraphClient';

/**
 * Differential test of the fast executor: every operation of the corpus runs through Apollo's
 * `executeQueryPlan` and through the fast executor, against the same real subgraphs over HTTP,
 * and the two results must be the same objects (toStrictEqual: same prototypes too), serialize to
 * the same bytes, and carry the same errors (class, message, path, extensions, original error).
 */

// A small test-only pair of subgraphs with what the benchmark's lack: an interface, a union,
// nested lists, a mutation, @requires with an argument, entity errors, nulls in non-null fields.
const CATALOG_SDL = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

interface Media {
  id: ID!
  title: String!
}

type Book implements Media @key(fields: "id") {
  id: ID!
  title: String!
  pages: Int
}

type Movie implements Media @key(fields: "id") {
  id: ID!
  title: String!
  minutes: Int!
}

type Author @key(fields: "id") {
  id: ID!
  name: String!
}

union SearchResult = Book | Movie | Author

type Query {
  media(ids: [ID!]): [Media!]!
  search(text: String!): [SearchResult]
  featured: Media
  shelves: [[Book]]
  brokenBook: Book
  oddities: [SearchResult]
  repeats: [SearchResult]
}

type Mutation {
  addBook(title: String!): Book!
}
`;

const STOCK_SDL = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@external", "@requires"])

type Book @key(fields: "id") {
  id: ID!
  pages: Int @external
  stock: Int
  readingTime(speed: Int = 1): Int @requires(fields: "pages")
}

type Movie @key(fields: "id") {
  id: ID!
  inStock: Boolean!
}

type Author @key(fields: "id") {
  id: ID!
  rating: Float
}
`;

const BOOKS = [
  { __typename: 'Book', id: 'b1', title: 'Dune', pages: 412 },
  { __typename: 'Book', id: 'b2', title: 'Emma', pages: 320 },
  { __typename: 'Book', id: 'b3', title: 'Ubik', pages: 202 },
];
const MOVIES = [
  { __typename: 'Movie', id: 'm1', title: 'Alien', minutes: 117 },
  { __typename: 'Movie', id: 'm2', title: 'Brazil', minutes: 132 },
  { __typename: 'Movie', id: 'm3', title: 'Clue', minutes: 94 },
];
const AUTHORS = [
  { __typename: 'Author', id: 'a1', name: 'Ann' },
  { __typename: 'Author', id: 'a2', name: 'Bob' },
  { __typename: 'Author', id: 'a3', name: 'Cid' },
];
const [b1, b2, b3] = BOOKS;
const [m1, m2, m3] = MOVIES;
const [a1, a2, a3] = AUTHORS;

const catalogResolvers: GraphQLResolverMap<unknown> = {
  Query: {
    media: (_: unknown, args: { ids?: string[] | null }) => [...BOOKS, ...MOVIES].filter((item) => !args.ids || args.ids.includes(item.id)),
    search: () => [b1, m1, a1, null, m2, a2, b2, m3],
    featured: () => m3,
    shelves: () => [[b1, b2], [], [b3, null], null],
    // Book.title is non-null: the subgraph itself nulls the book and reports the error.
    brokenBook: () => ({ __typename: 'Book', id: 'b9', title: null, pages: 1 }),
    oddities: () => [b2, a3, m1],
    // The same entities several times: the fast executor sends each representation once.
    repeats: () => [m2, m1, b1, m2, a2, m1, a2, m3, b1, m2],
  },
  Mutation: {
    addBook: (_: unknown, args: { title: string }) => ({ __typename: 'Book', id: `new-${args.title}`, title: args.title, pages: 100 }),
  },
  Media: { __resolveType: (item: { __typename: string }) => item.__typename },
  SearchResult: { __resolveType: (item: { __typename: string }) => item.__typename },
  Book: { __resolveReference: (ref: { id: string }) => BOOKS.find((book) => book.id === ref.id) ?? null },
  Movie: { __resolveReference: (ref: { id: string }) => MOVIES.find((movie) => movie.id === ref.id) ?? null },
  Author: { __resolveReference: (ref: { id: string }) => AUTHORS.find((author) => author.id === ref.id) ?? null },
};

const stockResolvers: GraphQLResolverMap<unknown> = {
  Book: {
    __resolveReference: (ref: { id: string; pages?: number | null }) => ({ id: ref.id, pages: ref.pages ?? null }),
    stock: (book: { id: string }) => book.id.length * 3,
    readingTime: (book: { pages: number | null }, args: { speed: number }) => (book.pages === null ? null : Math.round(book.pages / args.speed)),
  },
  Movie: {
    __resolveReference: async (ref: { id: string }) => {
      // An entity error (path ["_entities", i]) and an entity the subgraph resolves to null without error.
      if (ref.id === 'm2') throw new GraphQLError('Movie m2 is not tracked', { extensions: { code: 'NOT_TRACKED' } });
      if (ref.id === 'm3') return null;
      return { id: ref.id, inStock: ref.id === 'm1' };
    },
  },
  Author: {
    __resolveReference: (ref: { id: string }) => {
      // Thrown synchronously, this fails the whole `_entities` field (error path ["_entities"]).
      if (ref.id === 'a3') throw new Error('author a3 is corrupt');
      return { id: ref.id };
    },
    rating: (author: { id: string }) => {
      // A field error inside an entity (path ["_entities", i, "rating"]).
      if (author.id === 'a2') throw new Error('rating unavailable');
      return 4.5;
    },
  },
};

interface Case {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
  /** What makes the case worth having (checked on Apollo's result, which the fast one equals). */
  check?: (result: ExecutionResultLike) => void;
}

type ExecutionResultLike = { data?: Record<string, any> | null; errors?: readonly GraphQLError[]; extensions?: Record<string, any> };

interface Scenario {
  executor: OperationExecutor;
  serviceMap: ServiceMap;
}

let scratch: string;
let benchmarkSubgraphs: RunningSubgraphs;
const servers: ApolloServer[] = [];
const clientSets: SubgraphClients[] = [];
let benchmark: Scenario & { sdl: string; urls: Record<string, string> };
let benchmarkInventoryDown: Scenario;
let media: Scenario & { sdl: string; urls: Record<string, string> };
let mediaStockDown: Scenario;

function compose(config: SupergraphConfig): string {
  const composed = composeSupergraph(config);
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  return composed.supergraphSdl;
}

/** Our subgraph clients, as the gateway uses them (no retries, a circuit that never opens here). */
function serviceMapFor(urls: Record<string, string>): ServiceMap {
  const clients = createSubgraphClients({ client: { retries: 0, timeoutMs: 5_000, circuit: { ...DEFAULT_SUBGRAPH_CLIENT_OPTIONS.circuit, volumeThreshold: 1_000_000 } } });
  clientSets.push(clients);
  const map: ServiceMap = Object.create(null);
  for (const [name, url] of Object.entries(urls)) map[name] = clients.get(name, url);
  return map;
}

async function startSubgraph(sdl: string, resolvers: GraphQLResolverMap<unknown>): Promise<string> {
  const server = new ApolloServer({ schema: buildSubgraphSchema({ typeDefs: parse(sdl), resolvers }) });
  servers.push(server);
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
  return url;
}

beforeAll(async () => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'operation-executor-'));

  benchmarkSubgraphs = await startBenchmarkSubgraphs();
  const benchmarkConfig = readSupergraphConfig(SUPERGRAPH_CONFIG_PATH);
  for (const entry of benchmarkConfig.subgraphs) entry.routingUrl = benchmarkSubgraphs.urls[entry.name as keyof RunningSubgraphs['urls']];
  const benchmarkSdl = compose(benchmarkConfig);
  const benchmarkExecutor = createOperationExecutor({ supergraphSdl: benchmarkSdl });
  const benchmarkUrls: Record<string, string> = { ...benchmarkSubgraphs.urls };
  benchmark = { sdl: benchmarkSdl, urls: benchmarkUrls, executor: benchmarkExecutor, serviceMap: serviceMapFor(benchmarkUrls) };
  const nobody = `http://127.0.0.1:${await freePort()}/graphql`;
  benchmarkInventoryDown = { executor: benchmarkExecutor, serviceMap: serviceMapFor({ ...benchmarkUrls, inventory: nobody }) };

  const mediaUrls = { catalog: await startSubgraph(CATALOG_SDL, catalogResolvers), stock: await startSubgraph(STOCK_SDL, stockResolvers) };
  writeFileSync(path.join(scratch, 'catalog.graphql'), CATALOG_SDL);
  writeFileSync(path.join(scratch, 'stock.graphql'), STOCK_SDL);
  const mediaSdl = compose({
    configPath: path.join(scratch, 'supergraph.yaml'),
    subgraphs: Object.entries(mediaUrls).map(([name, routingUrl]) => ({ name, routingUrl, schemaPath: path.join(scratch, `${name}.graphql`) })),
  });
  const mediaExecutor = createOperationExecutor({ supergraphSdl: mediaSdl });
  media = { sdl: mediaSdl, urls: mediaUrls, executor: mediaExecutor, serviceMap: serviceMapFor(mediaUrls) };
  mediaStockDown = { executor: mediaExecutor, serviceMap: serviceMapFor({ ...mediaUrls, stock: nobody }) };
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  await benchmarkSubgraphs?.close();
  await Promise.all(clientSets.map((clients) => clients.close()));
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** What Apollo Server hands the gateway's executor for one request. */
function requestContextFor(executor: OperationExecutor, operation: Case): GatewayGraphQLRequestContext {
  const document = parse(operation.query);
  return {
    request: { query: operation.query, variables: operation.variables, operationName: operation.operationName },
    document,
    source: operation.query,
    queryHash: createHash('sha256').update(operation.query).digest('hex'),
    operationName: operation.operationName ?? null,
    operation: getOperationAST(document, operation.operationName),
    schema: executor.schema,
    metrics: {},
    context: { requestId: 'operation-executor-test', client: {} },
    logger: console,
  } as unknown as GatewayGraphQLRequestContext;
}

/** Plans the operation as ApolloGateway does and runs it with Apollo's executeQueryPlan. */
async function runApollo(scenario: Scenario, operation: Case) {
  const { executor } = scenario;
  const requestContext = requestContextFor(executor, operation);
  const operationContext = buildOperationContext({ schema: executor.schema, operationDocument: requestContext.document, operationName: operation.operationName });
  const plan = executor.queryPlanner.buildQueryPlan(operationFromDocument(executor.apiSchema, requestContext.document, { operationName: operation.operationName }));
  const result = await executeQueryPlan(plan, scenario.serviceMap, requestContext, operationContext, executor.supergraphSchema, executor.apiSchema);
  return { result, metrics: requestContext.metrics };
}

async function runFast(scenario: Scenario, operation: Case) {
  const requestContext = requestContextFor(scenario.executor, operation);
  const result = await scenario.executor.execute(requestContext, scenario.serviceMap);
  return { result, metrics: requestContext.metrics };
}

/** Errors in full: toStrictEqual compares Error objects by message only. */
function errorDetails(result: { errors?: readonly unknown[]; extensions?: Record<string, unknown> }) {
  const describe = (error: unknown) => {
    const { originalError } = error as GraphQLError;
    return {
      type: (error as object).constructor.name,
      message: (error as Error).message,
      path: (error as GraphQLError).path,
      locations: (error as GraphQLError).locations,
      extensions: (error as GraphQLError).extensions,
      originalError: originalError ? { type: originalError.constructor?.name, message: originalError.message, own: { ...originalError } } : originalError,
    };
  };
  return {
    errors: result.errors?.map(describe),
    valueCompletion: (result.extensions?.valueCompletion as unknown[] | undefined)?.map(describe),
  };
}

async function expectSameResult(scenario: Scenario, operation: Case) {
  const apollo = await runApollo(scenario, operation);
  const fast = await runFast(scenario, operation);
  expect(fast.result).not.toBe(UNSUPPORTED);
  expect(fast.result).toStrictEqual(apollo.result);
  expect(JSON.stringify(fast.result)).toBe(JSON.stringify(apollo.result));
  expect(errorDetails(fast.result as ExecutionResultLike)).toStrictEqual(errorDetails(apollo.result));
  expect(fast.metrics.nonFtv1ErrorPaths).toStrictEqual(apollo.metrics.nonFtv1ErrorPaths);
  operation.check?.(apollo.result as ExecutionResultLike);
  return apollo.result;
}

const BENCHMARK_CASES: Case[] = [
  { name: 'the benchmark query (fragments, nested lists of entities, @requires, @provides)', query: BENCHMARK_QUERY, operationName: 'TestQuery' },
  { name: 'the single-subgraph query', query: SINGLE_SUBGRAPH_QUERY },
  {
    name: 'aliases, __typename everywhere, a fragment on the same fields',
    query: `query Aliased {
      __typename
      first: topProducts(first: 2) { __typename sku: upc name ...Stock name }
      others: topProducts(first: 3) { upc reviews { kind: __typename body author { __typename name handle: username } } }
    }
    fragment Stock on Product { inStock shippingEstimate upc }`,
  },
  {
    name: 'variables sent to fetches, @include and @skip with variables',
    query: `query Vars($n: Int, $withName: Boolean!, $noPrice: Boolean = false) {
      topProducts(first: $n) { name @include(if: $withName) price @skip(if: $noPrice) ... on Product @skip(if: $noPrice) { weight } reviews { body } }
    }`,
    variables: { n: 2, withName: true },
  },
  {
    name: 'the same operation with other variables',
    query: `query Vars($n: Int, $withName: Boolean!, $noPrice: Boolean = false) {
      topProducts(first: $n) { name @include(if: $withName) price @skip(if: $noPrice) ... on Product @skip(if: $noPrice) { weight } reviews { body } }
    }`,
    variables: { n: 4, withName: false, noPrice: true },
  },
  { name: 'a nullable entity', query: '{ me { id name reviews { body product { upc inStock } } } user(id: "404") { id name } }' },
];

const MEDIA_CASES: Case[] = [
  {
    name: 'inline fragments on an interface in a non-null list, variables sent to the root fetch',
    query: `query Media($ids: [ID!]) { media(ids: $ids) { __typename id title ... on Book { pages stock } ... on Movie { minutes } } }`,
    variables: { ids: ['b1', 'm1', 'b3'] },
  },
  {
    name: 'a union with fragment spreads, entity errors and a field error in entities',
    query: `query Search {
      search(text: "a") { kind: __typename ... on Book { title stock } ...MovieParts ... on Author { name rating } }
    }
    fragment MovieParts on Movie { title inStock }`,
  },
  {
    name: 'repeated entities (deduplicated representations) with entity errors, field errors and nulls',
    query: '{ repeats { __typename ... on Author { id name rating } ... on Book { title stock readingTime } ... on Movie { title inStock } } }',
    check: (result) => expect(result.errors?.length).toBeGreaterThanOrEqual(5),
  },
  {
    name: 'an entity fetch that fails as a whole (error path without an index)',
    query: '{ oddities { __typename ... on Author { name rating } ... on Book { title stock } ... on Movie { title inStock } } }',
  },
  {
    name: '@requires with an argument from a variable',
    query: `query Reading($speed: Int) { media { ... on Book { title readingTime(speed: $speed) pages } } }`,
    variables: { speed: 2 },
  },
  { name: 'nested lists of entities with nulls', query: '{ shelves { id title stock readingTime } }' },
  {
    name: 'a subgraph that returns null for a non-null field',
    query: '{ brokenBook { id title } featured { title } }',
    check: (result) => expect(result.errors?.map((error) => error.path)).toEqual([['brokenBook', 'title']]),
  },
  {
    name: 'a null entity in a non-null position with no fetch error (value completion extension)',
    query: '{ featured { __typename title ... on Movie { inStock minutes } } }',
    check: (result) => {
      expect(result.errors).toBeUndefined();
      expect(result.extensions?.valueCompletion).toHaveLength(1);
      expect(result.data).toEqual({ featured: null });
    },
  },
  {
    name: 'a null that propagates through a non-null list to data',
    query: '{ media { id ... on Movie { inStock } } }',
    // The error's path is Apollo's: the representation's index applied to every entity of the list.
    check: (result) => expect(result.data).toBeNull(),
  },
  {
    name: '@skip on a nullable variable that is not provided (Apollo refuses during shaping)',
    query: 'query Maybe($hide: Boolean) { __typename @skip(if: $hide) featured { title } }',
    check: (result) => {
      expect(result.data).toBeUndefined();
      expect(result.errors?.[0]?.message).toMatch(/^Unexpected value undefined for variable \$hide/);
    },
  },
  { name: 'a mutation followed by an entity fetch', query: 'mutation Add($title: String!) { addBook(title: $title) { id title stock readingTime(speed: 4) } }', variables: { title: 'Solaris' } },
  { name: 'an operation picked by name among several', query: 'query A { featured { id } } query B { media(ids: ["b2"]) { id ... on Book { stock } } }', operationName: 'B' },
];

describe('fast executor against Apollo executeQueryPlan (benchmark subgraphs)', () => {
  test.each(BENCHMARK_CASES.map((operation) => [operation.name, operation] as const))('%s', async (_name, operation) => {
    await expectSameResult(benchmark, operation);
  });

  test('the benchmark query result is the expected one', async () => {
    const result = await expectSameResult(benchmark, { name: 'benchmark', query: BENCHMARK_QUERY });
    expect(JSON.parse(JSON.stringify(result))).toEqual(expectedBenchmarkResult());
  });

  test('a subgraph that is down (connection refused): partial data, errors at each entity path', async () => {
    const result = await expectSameResult(benchmarkInventoryDown, { name: 'inventory down', query: BENCHMARK_QUERY });
    expect(result.errors?.length).toBeGreaterThan(1);
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'inventory' });
    expect(result.data?.topProducts?.[0]?.inStock).toBeNull();
  });
});

describe('fast executor against Apollo executeQueryPlan (interface, union, @requires pair)', () => {
  test.each(MEDIA_CASES.map((operation) => [operation.name, operation] as const))('%s', async (_name, operation) => {
    await expectSameResult(media, operation);
  });

  test('entity errors are mapped to the response paths of the entities', async () => {
    const result = await expectSameResult(media, MEDIA_CASES[1]!);
    const paths = result.errors?.map((error) => error.path);
    // search: [b1, m1, a1, null, m2, a2, b2, m3]; entities are numbered without the null.
    expect(paths).toEqual(expect.arrayContaining([['search', 4], ['search', 5, 'rating']]));
  });

  test('a subgraph that is down during entity fetches', async () => {
    for (const operation of [MEDIA_CASES[0]!, MEDIA_CASES[1]!, MEDIA_CASES[3]!]) {
      const result = await expectSameResult(mediaStockDown, operation);
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'stock' });
    }
  });

  test('compiles each operation once', async () => {
    const executor = createOperationExecutor({ supergraphSdl: media.sdl, maxCachedOperations: 2 });
    const scenario = { executor, serviceMap: media.serviceMap };
    for (const operation of [MEDIA_CASES[0]!, MEDIA_CASES[0]!, MEDIA_CASES[2]!, MEDIA_CASES[3]!]) await runFast(scenario, operation);
    expect(executor.cachedOperations()).toBe(2);
  });
});

describe('unsupported operations', () => {
  test('introspection is left to Apollo', async () => {
    const fast = await runFast(media, { name: 'introspection', query: '{ __schema { queryType { name } } featured { id } }' });
    expect(fast.result).toBe(UNSUPPORTED);
  });

  test('a plan with a Condition node (@include on a field of another subgraph) is left to Apollo', async () => {
    const operation = { name: 'condition', query: 'query C($r: Boolean!) { topProducts { name reviews @include(if: $r) { body } } }', variables: { r: true } };
    const fast = await runFast(benchmark, operation);
    expect(fast.result).toBe(UNSUPPORTED);
  });

  test('Defer nodes and data rewrites are not compiled', () => {
    const planner = new QueryPlanner(media.executor.supergraph, { incrementalDelivery: { enableDefer: true } });
    const deferred = planner.buildQueryPlan(operationFromDocument(media.executor.apiSchema, parse('{ featured { id ... @defer { title } } }')));
    expect(JSON.stringify(deferred)).toContain('"Defer"');
    expect(compilePlan(deferred, media.executor.supergraphSchema)).toMatchObject({ ok: false });
    const fetch: FetchNode = { kind: 'Fetch', serviceName: 'stock', operation: '{ __typename }', operationName: undefined, operationKind: OperationTypeNode.QUERY };
    expect(compilePlan({ kind: 'QueryPlan', node: fetch }, media.executor.supergraphSchema)).toMatchObject({ ok: true });
    const rewritten: FetchNode = { ...fetch, outputRewrites: [{ kind: 'ValueSetter', path: ['__typename'], setValueTo: 'Book' }] };
    expect(compilePlan({ kind: 'QueryPlan', node: rewritten }, media.executor.supergraphSchema)).toMatchObject({ ok: false });
  });
});

describe('as the gateway of Apollo Server', () => {
  let stock: ApolloServer;
  let ours: ApolloServer;
  const fallbacks: string[] = [];

  beforeAll(async () => {
    const buildService = ({ name }: { name: string }) => media.serviceMap[name]!;
    stock = new ApolloServer({ gateway: new ApolloGateway({ supergraphSdl: media.sdl, buildService }) });
    ours = new ApolloServer({
      gateway: createFederationGateway({
        executor: () => media.executor,
        serviceMap: () => media.serviceMap,
        // As ApolloGateway outside production (Jest runs with NODE_ENV=test).
        exposeQueryPlan: true,
        // Records what runs on Apollo's executor.
        onFallback: (requestContext) => fallbacks.push(requestContext.source!),
      }),
    });
    await Promise.all([stock.start(), ours.start()]);
  });

  afterAll(async () => {
    await Promise.all([stock?.stop(), ours?.stop()]);
  });

  async function both(query: string, variables?: Record<string, unknown>) {
    const answers = await Promise.all(
      [stock, ours].map(async (server) => {
        const response = await server.executeOperation({ query, variables });
        if (response.body.kind !== 'single') throw new Error('expected a single result');
        return response.body.singleResult;
      }),
    );
    expect(JSON.stringify(answers[1])).toBe(JSON.stringify(answers[0]));
    return answers[1]!;
  }

  test('answers like Apollo Gateway, on the fast executor', async () => {
    fallbacks.length = 0;
    for (const operation of MEDIA_CASES.filter((item) => !item.operationName)) await both(operation.query, operation.variables);
    expect(fallbacks).toEqual([]);
  });

  test('checks variables like Apollo Gateway', async () => {
    const result = await both('query Media($ids: [ID!]) { media(ids: $ids) { id } }', { ids: [{ not: 'an id' }] });
    expect(result.errors?.[0]?.message).toMatch(/Variable "\$ids"/);
    expect(fallbacks).toEqual([]);
  });

  test('delegates a plan with a Condition node to Apollo', async () => {
    fallbacks.length = 0;
    const query = 'query C($s: Boolean!) { media(ids: ["b1"]) { id ... on Book { stock @skip(if: $s) } } }';
    await both(query, { s: false });
    await both(query, { s: true });
    expect(fallbacks.length).toBeGreaterThan(0);
  });

  test('answers Apollo-Query-Plan-Experimental with the query plan, as ApolloGateway does outside production', async () => {
    for (const format of [undefined, 'internal']) {
      const headers = new HeaderMap([['apollo-query-plan-experimental', '1'], ...(format ? [['apollo-query-plan-experimental-format', format] as [string, string]] : [])]);
      const answers = await Promise.all(
        [stock, ours].map(async (server) => {
          const response = await server.executeOperation({ query: MEDIA_CASES[0]!.query, variables: MEDIA_CASES[0]!.variables, http: { method: 'POST', headers, search: '', body: {} } });
          if (response.body.kind !== 'single') throw new Error('expected a single result');
          return response.body.singleResult;
        }),
      );
      expect(JSON.stringify(answers[1])).toBe(JSON.stringify(answers[0]));
      expect(answers[1]!.extensions?.__queryPlanExperimental).toBeTruthy();
    }
    expect(JSON.stringify((await ours.executeOperation({ query: MEDIA_CASES[0]!.query, variables: MEDIA_CASES[0]!.variables })).body)).not.toContain('__queryPlanExperimental');
  });

  test('delegates introspection to Apollo, which answers it', async () => {
    fallbacks.length = 0;
    const query = '{ __schema { queryType { name } } featured { id title } }';
    const result = await both(query);
    expect(result.data).toEqual({ __schema: { queryType: { name: 'Query' } }, featured: { id: 'm3', title: 'Clue' } });
    expect(fallbacks).toEqual([query]);
  });
});
