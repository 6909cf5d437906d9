/**
 * The public federation gateway benchmark's four subgraphs (accounts, inventory, products,
 * reviews), written with @apollo/subgraph: the same data (./data.ts) and the same resolver
 * behaviour as the benchmark's own implementation, including its quirks:
 * - `Review.author` is always user 1 (username "urigo", provided), with the first two reviews;
 * - a `User` entity resolved by the reviews subgraph always has the first two reviews;
 * - the inventory's `Product` entity resolver keeps its own record only (it ignores the `price`
 *   and `weight` sent for `@requires`), so `shippingEstimate` is always null, as in the benchmark.
 * Each subgraph serves POST /graphql on its own port; all four run in one process (the benchmark
 * runs them in one process too). Idle keep-alive connections are never closed by the server (like
 * the benchmark's Rust server): Node's default 5 s idle timeout races with clients that reuse a
 * connection at that moment (ECONNRESET), which would count against whichever gateway met it.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { parse } from 'graphql';
import { INVENTORY, PRODUCTS, REVIEWS, USERS, type ReviewRecord } from './data';

export const BENCHMARK_SUBGRAPHS = ['accounts', 'inventory', 'products', 'reviews'] as const;
export type BenchmarkSubgraph = (typeof BENCHMARK_SUBGRAPHS)[number];

export function schemaPath(name: BenchmarkSubgraph): string {
  return path.join(__dirname, 'schemas', `${name}.graphql`);
}

function mustFind<T>(items: readonly T[], match: (item: T) => boolean, what: string): T {
  const found = items.find(match);
  if (!found) throw new Error(`${what} not found`);
  return found;
}

/** The author every review reports (the benchmark hard-codes it). */
const REVIEW_AUTHOR = { id: '1', username: 'urigo', reviews: REVIEWS.slice(0, 2) };

const resolvers: Record<BenchmarkSubgraph, GraphQLResolverMap<unknown>> = {
  accounts: {
    Query: {
      me: () => USERS[0],
      user: (_: unknown, args: { id: string }) => USERS.find((user) => user.id === args.id) ?? null,
      users: () => USERS,
    },
    User: {
      __resolveReference: (ref: { id: string }) => mustFind(USERS, (user) => user.id === ref.id, `user ${ref.id}`),
    },
  },
  inventory: {
    Product: {
      // Only the inventory's own record: price and weight from the representation are not kept.
      __resolveReference: (ref: { upc: string }) => {
        const item = mustFind(INVENTORY, (product) => product.upc === ref.upc, `inventory item ${ref.upc}`);
        return { upc: item.upc, inStock: item.inStock, price: null, weight: null };
      },
      shippingEstimate: (product: { price: number | null; weight: number | null }) => {
        if (product.price === null) return null;
        if (product.price > 1000) return 0;
        return product.weight === null ? null : Math.trunc(product.weight / 2);
      },
    },
  },
  products: {
    Query: {
      topProducts: (_: unknown, args: { first?: number | null }) => PRODUCTS.slice(0, args.first ?? 5),
    },
    Product: {
      __resolveReference: (ref: { upc: string }) => mustFind(PRODUCTS, (product) => product.upc === ref.upc, `product ${ref.upc}`),
    },
  },
  reviews: {
    Review: {
      __resolveReference: (ref: { id: string }) => mustFind(REVIEWS, (review) => review.id === ref.id, `review ${ref.id}`),
      product: (review: ReviewRecord) => ({ upc: review.productUpc }),
      author: () => REVIEW_AUTHOR,
    },
    User: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id, username: 'user', reviews: REVIEWS.slice(0, 2) }),
    },
    Product: {
      __resolveReference: (ref: { upc: string }) => ({ upc: ref.upc }),
      reviews: (product: { upc: string }) => REVIEWS.filter((review) => review.productUpc === product.upc),
    },
  },
};

export interface RunningSubgraphs {
  urls: Record<BenchmarkSubgraph, string>;
  close(): Promise<void>;
}

/** Starts the four subgraphs on free ports of 127.0.0.1 (or the given ones). */
export async function startBenchmarkSubgraphs(ports: Partial<Record<BenchmarkSubgraph, number>> = {}): Promise<RunningSubgraphs> {
  const servers: { apollo: ApolloServer; http: http.Server }[] = [];
  const urls = {} as Record<BenchmarkSubgraph, string>;
  for (const name of BENCHMARK_SUBGRAPHS) {
    const schema = buildSubgraphSchema({ typeDefs: parse(readFileSync(schemaPath(name), 'utf8')), resolvers: resolvers[name] });
    const apollo = new ApolloServer({ schema, plugins: [ApolloServerPluginInlineTraceDisabled()] });
    await apollo.start();
    const server = http.createServer((req, res) => void serve(apollo, req, res));
    server.keepAliveTimeout = 0;
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(ports[name] ?? 0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
    servers.push({ apollo, http: server });
    urls[name] = `http://127.0.0.1:${port}/graphql`;
  }
  return {
    urls,
    async close() {
      await Promise.all(
        servers.map(async (server) => {
          server.http.closeAllConnections();
          await new Promise<void>((resolve) => server.http.close(() => resolve()));
          await server.apollo.stop();
        }),
      );
    },
  };
}


/** Minimal node:http binding of Apollo Server (POST JSON and GET), without a web framework. */
async function serve(apollo: ApolloServer, req: http.IncomingMessage, res: http.ServerResponse) {
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body: raw ? (JSON.parse(raw) as unknown) : undefined },
      context: async () => ({}),
    });
    res.statusCode = result.status ?? 200;
    for (const [key, value] of result.headers) res.setHeader(key, value);
    if (result.body.kind === 'complete') {
      res.end(result.body.string);
      return;
    }
    for await (const chunk of result.body.asyncIterator) res.write(chunk);
    res.end();
  } catch (error) {
    res.statusCode = 400;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ errors: [{ message: (error as Error).message }] }));
  }
}
