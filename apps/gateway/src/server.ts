import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import express from 'express';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { createErrorMasker } from '@meridian/errors';
import { readSupergraphConfig, resolveRoutingUrls } from '@meridian/composition';
import { listen, type Logger, type RunningServer } from '@meridian/service-kit';
import type { TokenVerifier, Viewer } from '@meridian/tokens';

export interface GatewayContext {
  viewer: Viewer;
  requestId: string;
  /** Forwarded as is, so every subgraph verifies the token itself. */
  authorization?: string;
  client: { ip?: string; userAgent?: string };
}

export interface GatewayDeps {
  supergraphPath: string;
  supergraphConfigPath: string;
  verifier: TokenVerifier;
  logger: Logger;
  production?: boolean;
  env?: Record<string, string | undefined>;
}

export interface Gateway {
  httpServer: http.Server;
  listen(port: number, host?: string): Promise<RunningServer>;
  close(): Promise<void>;
}

/** Forwards identity and correlation headers to subgraphs. */
class AuthenticatedDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>) {
    if (!('requestId' in context)) return; // health checks and schema loading have no request context
    if (context.authorization) request.http?.headers.set('authorization', context.authorization);
    request.http?.headers.set('x-request-id', context.requestId);
    if (context.client.ip) request.http?.headers.set('x-forwarded-for', context.client.ip);
    if (context.client.userAgent) request.http?.headers.set('user-agent', context.client.userAgent);
  }
}

/** Builds (does not start) the public entry point: `/graphql` (queries, mutations; Sandbox in development). */
export function createGateway(deps: GatewayDeps): Gateway {
  const supergraphSdl = readFileSync(deps.supergraphPath, 'utf8');
  const routingUrls = resolveRoutingUrls(readSupergraphConfig(deps.supergraphConfigPath), deps.env ?? process.env);
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name, url }) => new AuthenticatedDataSource({ url: routingUrls[name] ?? url }),
  });

  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    introspection: !deps.production,
    includeStacktraceInErrorResponses: false,
    formatError: createErrorMasker({
      onMasked: (error) => deps.logger.error({ err: error }, 'unexpected error at the gateway'),
    }),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      // Sandbox is a development tool; production serves no landing page at all.
      deps.production
        ? ApolloServerPluginLandingPageDisabled()
        : ApolloServerPluginLandingPageLocalDefault({ footer: false, includeCookies: false }),
    ],
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', service: 'gateway' });
  });

  let started: Promise<void> | undefined;
  let closed = false;
  async function start() {
    await apollo.start();
    app.use(
      '/graphql',
      express.json({ limit: '1mb' }),
      expressMiddleware(apollo, {
        context: async ({ req }) => {
          const requestId = (req.headers['x-request-id'] as string | undefined) ?? randomUUID();
          const authorization = req.headers.authorization || undefined;
          // A bad or expired token is a 401 here, before any subgraph is called.
          const viewer = await deps.verifier.viewerFromAuthorization(authorization);
          const client = { ip: req.socket.remoteAddress, userAgent: req.headers['user-agent'] };
          return { viewer, requestId, authorization, client };
        },
      }),
    );
  }

  return {
    httpServer,
    async listen(port, host) {
      started ??= start();
      await started;
      return listen(httpServer, port, host);
    },
    async close() {
      if (closed) return;
      closed = true;
      if (started) await apollo.stop();
    },
  };
}
