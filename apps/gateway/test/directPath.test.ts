import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { GraphQLError, parse } from 'graphql';
import { composeSupergraph, readSupergraphConfig } from '@meridian/composition';
import { createTokenVerifier } from '@meridian/tokens';
import { startTestTokenIssuer, type TestTokenIssuer } from '@meridian/testing';
import { createGateway, type Gateway } from '../src/server';

/**
 * Differential test of the gateway's direct path (src/http/directPath.ts): two gateways on the
 * same subgraphs, one with the direct path and one without (Express and Apollo Server for every
 * request), get the same requests; every answer must be the same (status, headers, bytes), and
 * the metric of the first one says which requests the direct path answered itself.
 */

const CATALOG_SDL = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@listSize"])

type Product @key(fields: "upc") {
  upc: ID!
  name: String!
  price: Int
}

type Query {
  products(first: Int = 2): [Product!]! @listSize(slicingArguments: ["first"])
  product(upc: ID!): Product
  failing: Product
  crashing: String
  cached: String
  whoami: String
}

type Mutation {
  bump(by: Int!): Int!
}
`;

const REVIEWS_SDL = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

type Product @key(fields: "upc") {
  upc: ID!
  reviews: [Review!]!
}

type Review {
  body: String!
  stars: Int!
}
`;

const PRODUCTS = [
  { upc: '1', name: 'Table', price: 899 },
  { upc: '2', name: 'Couch', price: 1299 },
  { upc: '3', name: 'Chair', price: 54 },
];

let bumps = 0;
const catalogResolvers: GraphQLResolverMap<{ authorization?: string }> = {
  Query: {
    products: (_: unknown, args: { first: number }) => PRODUCTS.slice(0, args.first),
    product: (_: unknown, args: { upc: string }) => PRODUCTS.find((product) => product.upc === args.upc) ?? null,
    failing: () => {
      throw new GraphQLError('The product shelf is locked.', { extensions: { code: 'FORBIDDEN' } });
    },
    crashing: () => {
      throw new Error('disk on fire');
    },
    cached: () => 'from cache',
    whoami: (_: unknown, __: unknown, context) => (context.authorization ? 'someone' : 'anonymous'),
  },
  Mutation: {
    bump: (_: unknown, args: { by: number }) => {
      bumps += args.by;
      return args.by;
    },
  },
  Product: {
    __resolveReference: (ref: { upc: string }) => PRODUCTS.find((product) => product.upc === ref.upc),
  },
};

const reviewsResolvers: GraphQLResolverMap<unknown> = {
  Product: {
    __resolveReference: (ref: { upc: string }) => ({ upc: ref.upc }),
    reviews: (product: { upc: string }) => {
      if (product.upc === '3') throw new GraphQLError('Reviews of chairs are withheld.', { extensions: { code: 'FORBIDDEN' } });
      return [{ body: `Nice ${product.upc}`, stars: Number(product.upc) + 2 }];
    },
  },
};

interface Subgraph {
  url: string;
  /** Headers of every request it received, oldest first. */
  received: http.IncomingHttpHeaders[];
  close(): Promise<void>;
}

/** A subgraph over real HTTP; operations that ask for `cached` are answered with a cacheable Cache-Control. */
async function startSubgraph(sdl: string, resolvers: GraphQLResolverMap<any>): Promise<Subgraph> {
  const apollo = new ApolloServer({ schema: buildSubgraphSchema({ typeDefs: parse(sdl), resolvers }) });
  await apollo.start();
  const received: http.IncomingHttpHeaders[] = [];
  const server = http.createServer(async (req, res) => {
    received.push(req.headers);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { query: string };
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(key, value);
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: 'POST', headers, search: '', body },
      context: async () => ({ authorization: req.headers.authorization }),
    });
    res.statusCode = result.status ?? 200;
    for (const [key, value] of result.headers) res.setHeader(key, value);
    if (body.query.includes('cached')) res.setHeader('cache-control', 'max-age=30, public');
    res.end(result.body.kind === 'complete' ? result.body.string : '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    received,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await apollo.stop();
    },
  };
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Headers that differ between any two responses (time, connection handling). */
const VOLATILE_HEADERS = new Set(['date', 'connection', 'keep-alive']);

async function send(url: string, request: { body: string; headers?: Record<string, string> }): Promise<Answer> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...request.headers }, body: request.body });
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!VOLATILE_HEADERS.has(name)) headers[name] = value;
  });
  return { status: response.status, headers, body: await response.text() };
}

async function directAnswers(url: string): Promise<number> {
  const text = await (await fetch(url.replace('/graphql', '/metrics'))).text();
  const match = /^meridian_gateway_direct_path_requests_total(?:\{[^}]*\})? (\d+)/m.exec(text);
  return match ? Number(match[1]) : 0;
}

const body = (query: string, extra: Record<string, unknown> = {}) => JSON.stringify({ query, ...extra });

describe.each([
  { mode: 'production', production: true },
  { mode: 'development', production: false },
])('direct path ($mode): the same answers as Express and Apollo Server', ({ production }) => {
  let scratch: string;
  let issuer: TestTokenIssuer;
  let catalog: Subgraph;
  let reviews: Subgraph;
  let direct: { gateway: Gateway; url: string };
  let classic: { gateway: Gateway; url: string };

  async function startPair(extra: Partial<Parameters<typeof createGateway>[0]> = {}) {
    const start = async (directPath: boolean) => {
      const gateway = createGateway({
        supergraphPath: path.join(scratch, 'supergraph.graphql'),
        supergraphConfigPath: path.join(scratch, 'supergraph.yaml'),
        env: {},
        verifier: createTokenVerifier({ jwksUrl: issuer.jwksUrl, issuer: issuer.issuer, audience: issuer.audience }),
        logger: pino({ level: 'silent' }),
        production,
        watchSupergraph: false,
        directPath,
        ...extra,
        protection: { corsOrigins: ['https://app.example'], ...extra.protection },
      });
      const running = await gateway.listen(0, '127.0.0.1');
      return { gateway, url: `${running.url}/graphql` };
    };
    return { direct: await start(true), classic: await start(false) };
  }

  beforeAll(async () => {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'direct-path-'));
    issuer = await startTestTokenIssuer();
    catalog = await startSubgraph(CATALOG_SDL, catalogResolvers);
    reviews = await startSubgraph(REVIEWS_SDL, reviewsResolvers);
    writeFileSync(path.join(scratch, 'catalog.graphql'), CATALOG_SDL);
    writeFileSync(path.join(scratch, 'reviews.graphql'), REVIEWS_SDL);
    writeFileSync(
      path.join(scratch, 'supergraph.yaml'),
      `subgraphs:\n  catalog:\n    routing_url: ${catalog.url}\n    schema:\n      file: ./catalog.graphql\n  reviews:\n    routing_url: ${reviews.url}\n    schema:\n      file: ./reviews.graphql\n`,
    );
    const composed = composeSupergraph(readSupergraphConfig(path.join(scratch, 'supergraph.yaml')));
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    writeFileSync(path.join(scratch, 'supergraph.graphql'), composed.supergraphSdl);
    ({ direct, classic } = await startPair());
  });

  afterAll(async () => {
    await Promise.all([direct?.gateway.close(), classic?.gateway.close()]);
    await Promise.all([catalog?.close(), reviews?.close(), issuer?.close()]);
    rmSync(scratch, { recursive: true, force: true });
  });

  /** Sends `request` to both gateways (after `warm`, which makes the operation known) and compares. */
  async function compare(request: { body: string; headers?: Record<string, string> }, options: { warm?: { body: string; headers?: Record<string, string> } | false; answeredDirectly: boolean }) {
    const warm = options.warm === undefined ? request : options.warm;
    if (warm) {
      await send(direct.url, warm);
      await send(classic.url, warm);
    }
    const before = await directAnswers(direct.url);
    const fromDirect = await send(direct.url, request);
    const fromClassic = await send(classic.url, request);
    expect(fromDirect).toEqual(fromClassic);
    expect((await directAnswers(direct.url)) - before).toBe(options.answeredDirectly ? 1 : 0);
    return fromDirect;
  }

  it('answers a known query on the direct path, byte for byte as Apollo Server', async () => {
    const answer = await compare({ body: body('{ products { upc name price } }') }, { answeredDirectly: true });
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('{"data":{"products":[{"upc":"1","name":"Table","price":899},{"upc":"2","name":"Couch","price":1299}]}}\n');
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it('runs entity fetches across subgraphs, with variables and operation names', async () => {
    const query = 'query A($n: Int) { products(first: $n) { name reviews { body stars } } } query B { product(upc: "2") { name } }';
    await compare({ body: body(query, { operationName: 'A', variables: { n: 3 } }) }, { warm: { body: body(query, { operationName: 'A', variables: { n: 1 } }) }, answeredDirectly: true });
    await compare({ body: body(query, { operationName: 'B' }) }, { answeredDirectly: true });
  });

  it('relays subgraph errors, masked and formatted the same way, with partial data', async () => {
    const withErrors = await compare({ body: body('{ products(first: 3) { name reviews { stars } } failing { name } crashing }') }, { answeredDirectly: true });
    expect(withErrors.status).toBe(200);
    expect(JSON.parse(withErrors.body).errors.length).toBeGreaterThan(1);
    expect(withErrors.headers['cache-control']).toBe('no-store');
  });

  it('narrows Cache-Control from the subgraphs, as Apollo Server does', async () => {
    const answer = await compare({ body: body('{ cached }') }, { answeredDirectly: true });
    expect(answer.headers['cache-control']).toBe('max-age=30, public');
  });

  it('reads a body that starts with a byte-order mark as body-parser does', async () => {
    const answer = await compare({ body: `\uFEFF${body('{ products { name } }')}` }, { warm: { body: body('{ products { name } }') }, answeredDirectly: true });
    expect(answer.status).toBe(200);
  });

  it('negotiates the media type from Accept', async () => {
    const query = body('{ product(upc: "1") { name } }');
    const graphqlResponse = await compare({ body: query, headers: { accept: 'application/graphql-response+json' } }, { answeredDirectly: true });
    expect(graphqlResponse.headers['content-type']).toBe('application/graphql-response+json; charset=utf-8');
    await compare({ body: query, headers: { accept: 'application/json;q=0.5, application/graphql-response+json' } }, { answeredDirectly: true });
    const refused = await compare({ body: query, headers: { accept: 'text/plain' } }, { answeredDirectly: false });
    expect(refused.status).toBe(406);
  });

  it('runs a known mutation exactly once per request', async () => {
    const mutation = body('mutation($by: Int!) { bump(by: $by) }', { variables: { by: 5 } });
    await compare({ body: mutation }, { warm: { body: body('mutation($by: Int!) { bump(by: $by) }', { variables: { by: 1 } }) }, answeredDirectly: true });
    const before = bumps;
    await send(direct.url, { body: mutation });
    expect(bumps - before).toBe(5);
    await send(classic.url, { body: mutation }); // keeps both gateways' metrics comparable
  });

  it('forwards the token, the request id and the client to the subgraph, and verifies tokens', async () => {
    const token = issuer.sign({ userId: 'user-1' });
    const headers = { authorization: `Bearer ${token}`, 'x-request-id': 'req-direct-1', 'user-agent': 'direct-test' };
    const answer = await compare({ body: body('{ whoami }'), headers }, { answeredDirectly: true });
    expect(JSON.parse(answer.body)).toEqual({ data: { whoami: 'someone' } });
    const [fromDirect, fromClassic] = [catalog.received.at(-2)!, catalog.received.at(-1)!];
    for (const name of ['authorization', 'x-request-id', 'x-forwarded-for', 'user-agent']) expect(fromDirect[name]).toEqual(fromClassic[name]);
    expect(fromDirect['x-request-id']).toBe('req-direct-1');
    // A bad token is Express's 401 (and the operation is known, so only the token sends it there).
    const refused = await compare({ body: body('{ whoami }'), headers: { authorization: 'Bearer not-a-token' } }, { warm: false, answeredDirectly: false });
    expect(refused.status).toBe(401);
  });

  it('applies CORS and the security headers', async () => {
    const allowed = await compare({ body: body('{ products { upc } }'), headers: { origin: 'https://app.example' } }, { answeredDirectly: true });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example');
    await compare({ body: body('{ products { upc } }'), headers: { origin: 'https://elsewhere.example' } }, { answeredDirectly: true });
    expect(allowed.headers['x-content-type-options']).toBe('nosniff');
  });

  it('refuses an operation over its cost limit on the direct path, as the guard does', async () => {
    const query = 'query($n: Int) { products(first: $n) { name reviews { body } } }';
    const refused = await compare({ body: body(query, { variables: { n: 100_000 } }) }, { warm: { body: body(query, { variables: { n: 1 } }) }, answeredDirectly: true });
    expect(refused.status).toBe(400);
  });

  it('leaves to Express what it does not answer: bad variables, unknown operations, batches, bad bodies, persisted hashes', async () => {
    const query = 'query($upc: ID!) { product(upc: $upc) { name } }';
    const badVariables = await compare({ body: body(query, { variables: { upc: { not: 'an id' } } }) }, { warm: { body: body(query, { variables: { upc: '1' } }) }, answeredDirectly: false });
    expect(badVariables.status).toBe(400);
    await compare({ body: body(query, { variables: {} }) }, { warm: false, answeredDirectly: false });
    await compare({ body: body('{ product(upc: "3") { price } }') }, { warm: false, answeredDirectly: false });
    await compare({ body: body('{ nope }') }, { answeredDirectly: false });
    await compare({ body: '{"query": "{ products { upc } }"' }, { warm: false, answeredDirectly: false });
    await compare({ body: '"{ products { upc } }"' }, { warm: false, answeredDirectly: false });
    await compare({ body: JSON.stringify([{ query: '{ products { upc } }' }]) }, { warm: false, answeredDirectly: false });
    await compare({ body: body('{ products { upc } }', { variables: 'x' }) }, { warm: false, answeredDirectly: false });
    await compare({ body: body('{ products { upc } }', { operationName: 7 }) }, { warm: false, answeredDirectly: false });
    await compare({ body: body('{ products { upc } }', { operationName: '' }) }, { warm: false, answeredDirectly: false });
    await compare({ body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: 'ab'.repeat(32) } } }) }, { warm: false, answeredDirectly: false });
    await compare({ body: JSON.stringify({ query: 'x'.repeat(200_000) }) }, { warm: false, answeredDirectly: false });
    await compare({ body: body('{ products { upc } }'), headers: { 'content-type': 'text/plain' } }, { warm: false, answeredDirectly: false });
  });

  it('counts requests the same way in its metrics', async () => {
    const series = async (url: string) => {
      const text = await (await fetch(url.replace('/graphql', '/metrics'))).text();
      return text.split('\n').filter((line) => /^meridian_graphql_(requests|errors)_total\{/.test(line)).sort();
    };
    expect(await series(direct.url)).toEqual(await series(classic.url));
  });

  it('charges the same rate budget: the request past it is refused the same way', async () => {
    const pair = await startPair({ protection: { rateLimits: { general: { points: 3, windowSeconds: 60 }, auth: { points: 3, windowSeconds: 60 } } } });
    try {
      const request = { body: body('{ products { upc } }') };
      const answers: [Answer, Answer][] = [];
      for (let index = 0; index < 5; index++) answers.push([await send(pair.direct.url, request), await send(pair.classic.url, request)]);
      for (const [fromDirect, fromClassic] of answers) expect(fromDirect).toEqual(fromClassic);
      expect(answers.map(([answer]) => answer.status)).toEqual([200, 200, 200, 429, 429]);
      expect(await directAnswers(pair.direct.url)).toBe(4);
    } finally {
      await Promise.all([pair.direct.gateway.close(), pair.classic.gateway.close()]);
    }
  });
});
