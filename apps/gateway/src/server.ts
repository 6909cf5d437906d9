import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import express from 'express';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { createError, createErrorMasker } from '@meridian/errors';
import { readSupergraphConfig, resolveRoutingUrls } from '@meridian/composition';
import {
  closeConnectionsWhileDraining,
  createConnectionDrain,
  createReadiness,
  createRequestTracer,
  listen,
  type Logger,
  type WorkerPeers,
  type Readiness,
  type RunningServer,
} from '@meridian/service-kit';
import type { TokenVerifier, Viewer } from '@meridian/tokens';
import { createSubscriptionGate, type SubscriptionLimits } from './subscriptions/gate';
import { createSubscriptionHub } from './subscriptions/hub';
import { createSharedFetches } from './subscriptions/sharedFetches';
import { createHttpSubscriptionHandler } from './subscriptions/http';
import { createSubscriptionPlanner } from './subscriptions/planner';
import { createUpstreamPool } from './subscriptions/upstream';
import { serveGraphQLOverWebSocket, type WebSocketLimits } from './subscriptions/websocket';
import { createGatewayProtection, type ProtectionOptions } from './protection';
import { createSubgraphClients, type SubgraphClientHooks, type SubgraphClientOptions, type SubgraphDataSource } from './subgraphs/subgraphClient';
import { createSupergraphSource, type ReloadResult } from './supergraph/supergraphSource';
import { createGatewayObservability } from './observability';
import { createFederationGateway } from './execution/federationGateway';
import { createDirectPath } from './http/directPath';
import type { OperationExecutor, ServiceMap } from './execution/operationExecutor';

export interface GatewayContext {
  viewer: Viewer;
  requestId: string;
  /** Forwarded as is, so every subgraph verifies the token itself. */
  authorization?: string;
  client: { ip?: string; userAgent?: string };
  /** Epoch ms by which the request must be answered: no subgraph fetch runs past it. */
  deadline?: number;
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
  /** The other worker processes of this gateway (GATEWAY_WORKERS > 1): upstream subscriptions are shared with them. */
  peers?: WorkerPeers;
  /** Operation limits, rate limits, body cap, CORS, persisted and trusted documents. */
  protection?: Partial<ProtectionOptions>;
  /** The gateway's own budget per request; subgraph fetches never run past it (default 20 s). */
  requestTimeoutMs?: number;
  /** Subgraph client: timeouts, retries, pool, circuit breaker. */
  subgraphClient?: Partial<SubgraphClientOptions>;
  /** Metrics and tracing hooks of the subgraph client. */
  subgraphHooks?: SubgraphClientHooks;
  /**
   * Answer known operations over POST on the direct path, without Express and Apollo Server's
   * HTTP pipeline (default true; GATEWAY_DIRECT_PATH=false turns it off).
   */
  directPath?: boolean;
  /** Reload the supergraph when its file changes (default true). */
  watchSupergraph?: boolean;
  /** SIGTERM: serve `delayMs` more while not ready, then drain within the rest of `timeoutMs`. */
  shutdown?: { timeoutMs: number; delayMs: number };
  readinessTimeoutMs?: number;
}

export interface Gateway {
  httpServer: http.Server;
  listen(port: number, host?: string): Promise<RunningServer>;
  /**
   * Graceful stop: not ready at once, serve `shutdown.delayMs` more, then stop accepting, close
   * WebSockets with 1001, let in-flight requests finish, release upstream connections.
   */
  close(): Promise<void>;
  /** Reads the supergraph file now and switches to it when it changed and is valid. */
  reloadSupergraph(): Promise<ReloadResult>;
  readiness: Readiness;
  /** The subgraph clients (circuit state per subgraph, for tests and metrics). */
  subgraphs(): SubgraphDataSource[];
  /** Live subscription figures (for metrics and tests). */
  stats(): { upstreamSubscriptions: number; relayedSubscriptions: number; subscribers: number; openWebSockets: number; upstreamSockets: number };
}

/** Builds (does not start) the public entry point: `/graphql` (queries, mutations; Sandbox in development). */
export function createGateway(deps: GatewayDeps): Gateway {
  const supergraphSdl = readFileSync(deps.supergraphPath, 'utf8');
  const routingUrls = resolveRoutingUrls(readSupergraphConfig(deps.supergraphConfigPath), deps.env ?? process.env);
  const shutdown = deps.shutdown ?? { timeoutMs: 25_000, delayMs: 0 };
  const requestTimeoutMs = deps.requestTimeoutMs ?? 20_000;
  const observability = createGatewayObservability({ logger: deps.logger, stats: () => stats() });
  const clients = createSubgraphClients({ client: deps.subgraphClient, hooks: combineHooks(observability.subgraphHooks, deps.subgraphHooks) });
  // Routing URLs from supergraph.yaml and <NAME>_SUBGRAPH_URL win over the supergraph's own.
  const supergraphUrls = new Map<string, string>();
  const dataSourceFor = (name: string, url?: string) => {
    const target = routingUrls[name] ?? url ?? supergraphUrls.get(name);
    if (!target) throw new Error(`No routing URL for subgraph ${name}.`);
    if (url) supergraphUrls.set(name, url);
    return clients.get(name, target);
  };
  // Subscriptions: planned by Apollo's planner, the subscription field fetched over graphql-ws
  // from its subgraph, each event completed with entity fetches through the same data sources.
  let planner = createSubscriptionPlanner(supergraphSdl);
  const supergraph = createSupergraphSource({
    path: deps.supergraphPath,
    initialSdl: supergraphSdl,
    logger: deps.logger,
    watch: deps.watchSupergraph ?? true,
    prepare: (sdl) => createSubscriptionPlanner(sdl),
    onReloaded: (next) => {
      planner = next;
      gateway.switched();
      // Running subscriptions were planned against the old supergraph: end them with a clear code;
      // clients resubscribe with their last cursor and get plans of the new one.
      hub.endAll(createError('SUPERGRAPH_RELOADED', 'The gateway switched to a new supergraph; resubscribe with your last cursor.'));
    },
  });
  // The data sources of each supergraph's subgraphs, built once per executor (queries, mutations, direct path).
  const serviceMaps = new WeakMap<OperationExecutor, ServiceMap>();
  function servicesOf(executor: OperationExecutor): ServiceMap {
    let services = serviceMaps.get(executor);
    if (!services) {
      services = Object.create(null) as ServiceMap;
      for (const { name, url } of executor.subgraphs) services[name] = dataSourceFor(name, url);
      serviceMaps.set(executor, services);
    }
    return services;
  }
  // Apollo Server's gateway: the current planner's supergraph, queries and mutations on the fast
  // executor, Apollo's executeQueryPlan for what it does not support (ADR 0018).
  const gateway = createFederationGateway({
    executor: () => planner.executor,
    serviceMap: servicesOf,
    exposeQueryPlan: !deps.production,
  });
  const upstream = createUpstreamPool();
  const sharedFetches = createSharedFetches({ onShared: observability.subscriptionFetchShared });
  const hub = createSubscriptionHub({
    planner: () => planner,
    upstream,
    // Per-event entity fetches use the same subgraph clients as queries (undici keep-alive pool,
    // timeouts, circuit breaker, metrics: ADR 0014 and 0016), and share public answers across
    // scopes (ADR 0020).
    serviceMap: () => sharedFetches.wrap(servicesOf(planner.executor)),
    urlFor: (name) => {
      const url = routingUrls[name];
      if (!url) throw new Error(`No routing URL for subgraph ${name}.`);
      return url;
    },
    limits: { maxQueuedPerSubscriber: deps.maxQueuedPerSubscriber ?? 1_000 },
    peers: deps.peers,
    onError: (error, details) => deps.logger.warn({ err: error, ...details }, 'subscription stream ended with an error'),
  });

  const protection = createGatewayProtection({
    options: deps.protection,
    production: Boolean(deps.production),
    verifier: deps.verifier,
    logger: deps.logger,
    schema: () => planner.schema,
    supergraphSdl: () => supergraph.current(),
    acrossWorkers: deps.peers !== undefined,
  });

  const app = express();
  app.disable('x-powered-by');
  // GraphQL answers POSTs: an ETag (a SHA-1 of every response body) buys no caching and cost ~1 %
  // of the gateway's CPU on the federation benchmark's 88 KB answers.
  app.set('etag', false);
  app.set('trust proxy', protection.trustProxy); // req.ip: the client behind trusted proxies (TRUST_PROXY)
  app.use(protection.securityHeaders);
  const readiness = createReadiness('gateway', deps.readinessTimeoutMs);
  const formatError = createErrorMasker({
    onMasked: (error) => deps.logger.error({ err: error }, 'unexpected error at the gateway'),
  });
  const plugins = [
    // Sandbox is a development tool; production serves no landing page at all.
    deps.production
      ? ApolloServerPluginLandingPageDisabled()
      : ApolloServerPluginLandingPageLocalDefault({ footer: false, includeCookies: false }),
    observability.plugin,
  ];
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    introspection: !deps.production,
    includeStacktraceInErrorResponses: false,
    ...protection.apolloOptions,
    formatError,
    plugins,
  });
  // Known operations over POST skip Express and Apollo Server's HTTP pipeline (src/http/directPath.ts).
  // Off when Apollo's usage reporting is on (it reads traces the direct path does not produce).
  const direct = deps.directPath !== false && !process.env.APOLLO_KEY;
  const httpServer = http.createServer(
    direct
      ? createDirectPath({
          app,
          executor: () => planner.executor,
          serviceMap: servicesOf,
          protection,
          verifier: deps.verifier,
          readiness,
          plugins,
          formatError,
          securityHeaders: protection.securityHeaders as never,
          cors: protection.cors as never,
          trace: createRequestTracer('gateway'),
          requestTimeoutMs,
          logger: deps.logger,
          onAnswered: observability.directPathAnswered,
        })
      : app,
  );
  const connections = createConnectionDrain(httpServer);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', service: 'gateway' });
  });
  let supergraphLoaded = false;
  readiness.add('supergraph', async () => {
    if (!supergraphLoaded) throw new Error('no supergraph loaded yet');
  });
  for (const name of Object.keys(routingUrls)) {
    readiness.add(`subgraph:${name}`, () => dataSourceFor(name).probe(deps.readinessTimeoutMs ?? 2_000));
  }
  app.get('/readyz', readiness.handler);
  app.use(closeConnectionsWhileDraining(readiness));
  app.get('/metrics', observability.metricsRoute);
  const gate = createSubscriptionGate({
    planner: () => planner,
    hub: () => hub,
    limits: deps.subscriptionLimits,
    shared: deps.peers,
    // Live subscriptions' tokens are checked again (ends those of a locked or deleted account).
    verifyAuthorization: (authorization) => deps.verifier.viewerFromAuthorization(authorization),
  });
  const webSockets = serveGraphQLOverWebSocket({
    httpServer,
    planner: () => planner,
    gate,
    apollo,
    verifier: deps.verifier,
    logger: deps.logger,
    limits: deps.webSocketLimits,
    protect: protection.checkWebSocketOperation,
    clientAddress: protection.clientAddress,
  });
  webSockets.wsServer.options.maxPayload = protection.options.maxBodyBytes;

  async function buildContext(req: express.Request): Promise<GatewayContext> {
    const requestId = (req.res?.locals.requestId as string | undefined) ?? (req.headers['x-request-id'] as string | undefined) ?? randomUUID();
    const authorization = req.headers.authorization || undefined;
    // A bad or expired token is a 401 here, before any subgraph is called.
    const viewer = await (protection.viewerFor(req) ?? deps.verifier.viewerFromAuthorization(authorization));
    const client = { ip: req.ip, userAgent: req.headers['user-agent'] };
    return { viewer, requestId, authorization, client, deadline: Date.now() + requestTimeoutMs };
  }

  function stats() {
    return { ...hub.stats(), openWebSockets: webSockets.openConnections(), upstreamSockets: upstream.size() };
  }

  let started: Promise<void> | undefined;
  let closed = false;
  async function start() {
    await Promise.all([apollo.start(), protection.ready()]);
    supergraph.start();
    supergraphLoaded = true;
    app.use(
      '/graphql',
      protection.cors,
      observability.tracing,
      protection.parseBody,
      protection.guard,
      createHttpSubscriptionHandler({ planner: () => planner, gate, buildContext }),
      expressMiddleware(apollo, {
        context: ({ req }) => buildContext(req),
      }),
    );
    app.use(protection.errorHandler);
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
      readiness.drain();
      if (shutdown.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, shutdown.delayMs));
      // Clients are told the server is going away (1001); they resume with their cursor elsewhere.
      await webSockets.close(1001, 'Gateway shutting down');
      // HTTP subscription streams (multipart, SSE) end with an error instead of holding the drain.
      hub.endAll(createError('SHUTTING_DOWN', 'The gateway is shutting down; resubscribe with your last cursor.'));
      await upstream.close();
      // Stops accepting and waits for in-flight requests: they get what is left of the shutdown
      // bound after the delay (minus a margin to exit); see createConnectionDrain.
      await connections.drain(Math.max(500, shutdown.timeoutMs - shutdown.delayMs - 1_000));
      supergraph.stop();
      if (started) await apollo.stop();
      await clients.close();
      await protection.close();
    },
    reloadSupergraph: () => supergraph.reload(),
    readiness,
    subgraphs: () => clients.all(),
    stats,
  };
}

/** Calls every set of subgraph client hooks (metrics and tracing, plus any the caller passes). */
function combineHooks(...sets: Array<SubgraphClientHooks | undefined>): SubgraphClientHooks {
  const all = sets.filter((set): set is SubgraphClientHooks => Boolean(set));
  return {
    onRequest: (subgraph, headers, context) => all.forEach((set) => set.onRequest?.(subgraph, headers, context)),
    onFetch: (subgraph, durationMs, outcome, attempts) => all.forEach((set) => set.onFetch?.(subgraph, durationMs, outcome, attempts)),
    onCircuit: (subgraph, state) => all.forEach((set) => set.onCircuit?.(subgraph, state)),
  };
}
