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
import { createSubscriptionGate, type SubscriptionLimits } from './subscriptions/gate';
import { createSubscriptionHub } from './subscriptions/hub';
import { createHttpSubscriptionHandler } from './subscriptions/http';
import { createSubscriptionPlanner } from './subscriptions/planner';
import { createUpstreamPool } from './subscriptions/upstream';
import { createEntityFetcher } from './subscriptions/entityFetcher';
import { serveGraphQLOverWebSocket, type WebSocketLimits } from './subscriptions/websocket';

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
  webSocketLimits?: Partial<WebSocketLimits>;
  subscriptionLimits?: Partial<SubscriptionLimits>;
  /** Results queued for one slow subscriber before it is ended (default 1000). */
  maxQueuedPerSubscriber?: number;
}

export interface Gateway {
  httpServer: http.Server;
  listen(port: number, host?: string): Promise<RunningServer>;
  close(): Promise<void>;
  /** Live subscription figures (for metrics and tests). */
  stats(): { upstreamSubscriptions: number; subscribers: number; openWebSockets: number; upstreamSockets: number };
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
  const dataSources = new Map<string, AuthenticatedDataSource>();
  const dataSourceFor = (name: string, url?: string) => {
    let source = dataSources.get(name);
    if (!source) {
      source = new AuthenticatedDataSource({ url: routingUrls[name] ?? url });
      dataSources.set(name, source);
    }
    return source;
  };
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name, url }) => dataSourceFor(name, url),
  });
  // Subscriptions: planned by Apollo's planner, the subscription field fetched over graphql-ws
  // from its subgraph, each event completed with entity fetches through the same data sources.
  const planner = createSubscriptionPlanner(supergraphSdl);
  const upstream = createUpstreamPool();
  // Per-event entity fetches go through a leaner fetcher than Apollo's default (ADR 0016).
  const entityFetcher = createEntityFetcher();
  const eventDataSources = new Map(
    Object.entries(routingUrls).map(([name, url]) => [name, new AuthenticatedDataSource({ url, fetcher: entityFetcher.fetcher })]),
  );
  const hub = createSubscriptionHub({
    planner,
    upstream,
    serviceMap: () => Object.fromEntries(eventDataSources),
    urlFor: (name) => {
      const url = routingUrls[name];
      if (!url) throw new Error(`No routing URL for subgraph ${name}.`);
      return url;
    },
    limits: { maxQueuedPerSubscriber: deps.maxQueuedPerSubscriber ?? 1_000 },
    onError: (error, details) => deps.logger.warn({ err: error, ...details }, 'subscription stream ended with an error'),
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
  const gate = createSubscriptionGate({ planner: () => planner, hub: () => hub, limits: deps.subscriptionLimits });
  const webSockets = serveGraphQLOverWebSocket({
    httpServer,
    planner: () => planner,
    gate,
    apollo,
    verifier: deps.verifier,
    logger: deps.logger,
    limits: deps.webSocketLimits,
  });

  async function buildContext(req: express.Request): Promise<GatewayContext> {
    const requestId = (req.headers['x-request-id'] as string | undefined) ?? randomUUID();
    const authorization = req.headers.authorization || undefined;
    // A bad or expired token is a 401 here, before any subgraph is called.
    const viewer = await deps.verifier.viewerFromAuthorization(authorization);
    const client = { ip: req.socket.remoteAddress, userAgent: req.headers['user-agent'] };
    return { viewer, requestId, authorization, client };
  }

  let started: Promise<void> | undefined;
  let closed = false;
  async function start() {
    await apollo.start();
    app.use(
      '/graphql',
      express.json({ limit: '1mb' }),
      createHttpSubscriptionHandler({ planner: () => planner, gate, buildContext }),
      expressMiddleware(apollo, {
        context: ({ req }) => buildContext(req),
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
      // Clients are told the server is going away (1001); they resume with their cursor elsewhere.
      await webSockets.close(1001, 'Gateway shutting down');
      await upstream.close();
      await entityFetcher.close();
      if (started) await apollo.stop();
    },
    stats: () => ({ ...hub.stats(), openWebSockets: webSockets.openConnections(), upstreamSockets: upstream.size() }),
  };
}
