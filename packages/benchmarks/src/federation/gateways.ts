/**
 * The gateways under test, each started the way its users start it, on the same supergraph:
 * - ours: `createGateway` from apps/gateway (everything the gateway does in production: plugins,
 *   error masking, token verification, subscriptions wiring), routed through the benchmark's
 *   supergraph.yaml with <NAME>_SUBGRAPH_URL overrides;
 * - stock: `@apollo/gateway` + `@apollo/server` standalone, default settings (as the public
 *   benchmark runs it);
 * - hive: Hive Gateway's runtime (`createGatewayRuntime` from `@graphql-hive/gateway`), default
 *   settings, served by node:http.
 */
import http from 'node:http';
import { BENCHMARK_OPERATION_LIMITS, BENCHMARK_RATE_BUDGETS } from '../budgets';

// Each gateway's packages are imported only when that gateway starts: a process holds one gateway.

export const GATEWAY_KINDS = ['ours', 'stock', 'hive'] as const;
export type GatewayKind = (typeof GATEWAY_KINDS)[number];

export interface GatewayUnderTestOptions {
  kind: GatewayKind;
  supergraphSdl: string;
  /** For ours: the composed supergraph file and the supergraph.yaml it was composed from. */
  supergraphPath: string;
  supergraphConfigPath: string;
  /** For ours: routing overrides (<NAME>_SUBGRAPH_URL). */
  routingEnv: Record<string, string>;
}

export interface RunningGateway {
  url: string;
  close(): Promise<void>;
}

function listenOn(server: http.Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (!address || typeof address === 'string') return reject(new Error('server has no TCP address'));
      resolve(`http://127.0.0.1:${address.port}/graphql`);
    });
  });
}

export async function startGatewayUnderTest(options: GatewayUnderTestOptions): Promise<RunningGateway> {
  switch (options.kind) {
    case 'ours': {
      const { createGateway } = await import('@meridian/gateway');
      const { createLogger } = await import('@meridian/service-kit');
      const { createTokenVerifier } = await import('@meridian/tokens');
      const gateway = createGateway({
        supergraphPath: options.supergraphPath,
        supergraphConfigPath: options.supergraphConfigPath,
        env: options.routingEnv,
        // Anonymous requests never fetch keys; the verifier is the real one.
        verifier: createTokenVerifier({ jwksUrl: 'http://127.0.0.1:9/unused-jwks.json', issuer: 'meridian-auth', audience: 'meridian' }),
        logger: createLogger('gateway', 'warn'),
        production: true,
        // The limiter runs (its cost is measured) but never refuses the load driver's one address.
        protection: {
          limits: {
            maxDepth: Number(BENCHMARK_OPERATION_LIMITS.MAX_QUERY_DEPTH),
            maxCost: Number(BENCHMARK_OPERATION_LIMITS.MAX_QUERY_COST),
            maxTokens: Number(BENCHMARK_OPERATION_LIMITS.MAX_TOKENS),
          },
          rateLimits: {
            general: { points: Number(BENCHMARK_RATE_BUDGETS.RATE_LIMIT_POINTS), windowSeconds: 60 },
            auth: { points: Number(BENCHMARK_RATE_BUDGETS.AUTH_RATE_LIMIT_POINTS), windowSeconds: 60 },
          },
        },
      });
      const running = await gateway.listen(0, '127.0.0.1');
      return { url: `${running.url}/graphql`, close: () => gateway.close() };
    }
    case 'stock': {
      const { ApolloGateway } = await import('@apollo/gateway');
      const { ApolloServer } = await import('@apollo/server');
      const { startStandaloneServer } = await import('@apollo/server/standalone');
      const server = new ApolloServer({ gateway: new ApolloGateway({ supergraphSdl: options.supergraphSdl }) });
      const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
      return { url: new URL('/graphql', url).toString(), close: () => server.stop() };
    }
    case 'hive': {
      // Loaded on demand: only the benchmark needs it (and it is large).
      const { createGatewayRuntime } = await import('@graphql-hive/gateway');
      const runtime = createGatewayRuntime({ supergraph: options.supergraphSdl, logging: false });
      const server = http.createServer(runtime);
      const url = await listenOn(server);
      return {
        url,
        async close() {
          await new Promise<void>((resolve) => server.close(() => resolve()));
          server.closeAllConnections();
          await runtime.dispose();
        },
      };
    }
  }
}
