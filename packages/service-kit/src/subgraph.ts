import http from 'node:http';
import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { execute, type DocumentNode, type ExecutionArgs, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createErrorMasker } from '@meridian/errors';
import type { TokenVerifier, Viewer } from '@meridian/tokens';
import type { Logger } from './logger';
import { listen, type RunningServer } from './http';
import { createObservabilityPlugin, metricsHandler, operationSpanName, requestIdOf, tracingMiddleware } from './observability';
import { contextOfWebSocketOperation, createServiceRegistry, getTracer, inSpan, SpanKind, SpanStatusCode, type Context, type Registry } from '@meridian/observability';
import { attachWebSocketServer } from './websocket';
import { createTracedSubscribe } from './eventSpans';
import { closeConnectionsWhileDraining, createReadiness, type Readiness } from './readiness';

export interface BaseContext {
  viewer: Viewer;
  requestId: string;
  logger: Logger;
  /** The end user's client as the gateway reports it (x-forwarded-for, user-agent). */
  client: { ip?: string; userAgent?: string };
}

export interface SubgraphServerOptions<TContext extends BaseContext> {
  name: string;
  typeDefs: DocumentNode;
  // Codegen-typed resolver maps are structurally compatible; the cast lives here, once.
  resolvers: unknown;
  verifier: TokenVerifier;
  logger: Logger;
  /** Adds per-request state (DataLoaders, repositories) to the base context. */
  createContext: (base: BaseContext) => TContext | Promise<TContext>;
  /** Extra HTTP routes (e.g. the auth service's JWKS). Mounted before /graphql. */
  routes?: (app: Express) => void;
  /** Readiness probe: resolves when the service can serve (its database answers). */
  isReady?: () => Promise<void>;
  /** Bound of each readiness check (default 2000 ms). */
  readinessTimeoutMs?: number;
  /** Time in-flight requests get to finish on close before their connections are cut (default 10 s). */
  shutdownGraceMs?: number;
  production?: boolean;
  plugins?: ApolloServerPlugin<TContext>[];
}

export interface SubgraphServer {
  name: string;
  app: Express;
  httpServer: http.Server;
  /** This service's Prometheus registry (served on `/metrics` with the process-wide metrics). */
  metrics: Registry;
  /** Starts Apollo and listens; `port` 0 picks a free port. */
  listen(port: number, host?: string): Promise<RunningServer>;
  /** `/readyz` checks; more can be added (e.g. Redis), and `drain()` marks the start of shutdown. */
  readiness: Readiness;
  /**
   * Stops the HTTP server and Apollo: stops accepting, lets in-flight requests finish (within the
   * grace period), closes subscription sockets with 1001; safe to call twice.
   */
  close(): Promise<void>;
}

/**
 * Builds (does not start) the HTTP server of one subgraph: `POST/GET /graphql`,
 * `/healthz`, `/readyz`, `/metrics`. Every request's viewer comes from the forwarded bearer token,
 * verified here again (zero trust: the gateway is not the only thing on the network).
 */
export function createSubgraphServer<TContext extends BaseContext>(
  options: SubgraphServerOptions<TContext>,
): SubgraphServer {
  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);
  const schema = buildSubgraphSchema({ typeDefs: options.typeDefs, resolvers: options.resolvers as GraphQLResolverMap<unknown> });
  const metrics = createServiceRegistry(options.name);
  const subscriptions = schema.getSubscriptionType() ? serveSubscriptions(schema, httpServer, options) : undefined;
  const readiness = createReadiness(options.name, options.readinessTimeoutMs);
  if (options.isReady) readiness.add('database', options.isReady);
  const apollo = new ApolloServer<TContext>({
    schema,
    introspection: !options.production,
    includeStacktraceInErrorResponses: false,
    formatError: createErrorMasker({
      onMasked: (error) => options.logger.error({ err: error }, 'unexpected error in resolver'),
    }),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: options.shutdownGraceMs ?? 10_000 }),
      ...(subscriptions ? [{ serverWillStart: async () => ({ drainServer: () => subscriptions.close() }) }] : []),
      ApolloServerPluginLandingPageDisabled(),
      // Federated traces (ftv1) only feed Apollo's hosted studio, which we do not use.
      ApolloServerPluginInlineTraceDisabled(),
      createObservabilityPlugin<TContext>({ registry: metrics, logger: options.logger, loggerOf: (context) => context.logger }),
      ...(options.plugins ?? []),
    ],
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', service: options.name });
  });
  app.get('/readyz', readiness.handler);
  app.use(closeConnectionsWhileDraining(readiness));
  app.get('/metrics', metricsHandler(metrics));
  options.routes?.(app);

  let started: Promise<void> | undefined;
  let running: RunningServer | undefined;
  let closed = false;

  async function start() {
    await apollo.start();
    app.use(
      '/graphql',
      express.json({ limit: '1mb' }),
      tracingMiddleware(options.name),
      expressMiddleware(apollo, {
        context: async ({ req, res }) => {
          const requestId = (res.locals.requestId as string | undefined) ?? requestIdOf(req.headers['x-request-id']);
          const logger = options.logger.child({ requestId });
          const viewer = await options.verifier.viewerFromAuthorization(req.headers.authorization);
          // Subgraphs sit behind the gateway, which sets these; they are informational (sessions list), never trusted for access.
          const forwardedFor = headerValue(req.headers['x-forwarded-for'])?.split(',')[0]?.trim();
          const client = { ip: forwardedFor || req.socket.remoteAddress, userAgent: headerValue(req.headers['user-agent']) };
          return options.createContext({ viewer, requestId, logger, client });
        },
      }),
    );
  }

  return {
    name: options.name,
    app,
    httpServer,
    readiness,
    metrics,
    async listen(port, host) {
      started ??= start();
      await started;
      running = await listen(httpServer, port, host);
      return running;
    },
    async close() {
      if (closed) return;
      closed = true;
      readiness.drain();
      // stop() drains the HTTP server through the drain plugin.
      if (started) await apollo.stop();
      else if (httpServer.listening) await running?.close();
    },
  };
}

/**
 * Subscription fields are served over graphql-ws on the same port and path. The gateway is the
 * client: it sends the end user's bearer token as `connectionParams.authorization`; a bad token
 * closes the socket with 4403 (Forbidden), as the protocol defines.
 */
function serveSubscriptions<TContext extends BaseContext>(
  schema: GraphQLSchema,
  httpServer: http.Server,
  options: SubgraphServerOptions<TContext>,
) {
  const wsServer = attachWebSocketServer(httpServer, '/graphql');
  // Each operation gets a SERVER span whose parent is the gateway's (`extensions.traceparent`):
  // for a subscription, its set-up. Each event of a subscription gets a span of its own, linked
  // to that set-up and to the span that produced the event (createTracedSubscribe).
  const traceOf = new WeakMap<object, { parent: Context; requestId: string }>();
  const tracer = getTracer(options.name);
  const inOperationSpan = <T>(args: ExecutionArgs, run: () => T | Promise<T>): Promise<T> => {
    const trace = traceOf.get(args.contextValue as object);
    return inSpan(
      tracer,
      operationSpanName(args.document, args.operationName),
      { kind: SpanKind.SERVER, parent: trace?.parent, attributes: { 'meridian.service': options.name, 'meridian.request_id': trace?.requestId ?? '', 'network.protocol.name': 'websocket' } },
      async (span) => {
        const result = await run();
        // A refused subscription or a failed query comes back as a result with errors, not a throw.
        if ((result as { errors?: readonly unknown[] } | null)?.errors?.length) span.setStatus({ code: SpanStatusCode.ERROR });
        return result;
      },
    );
  };
  const subscribe = createTracedSubscribe(options.name);
  const disposable = useServer<{ authorization?: unknown }, { viewer: Viewer }>(
    {
      schema,
      connectionInitWaitTimeout: 5_000,
      onConnect: async (ctx) => {
        const authorization = ctx.connectionParams?.authorization;
        try {
          ctx.extra.viewer = await options.verifier.viewerFromAuthorization(typeof authorization === 'string' ? authorization : undefined);
          return true;
        } catch {
          return false;
        }
      },
      context: async (ctx, _id, payload) => {
        const requestId = randomUUID();
        const context = await options.createContext({
          viewer: ctx.extra.viewer!,
          requestId,
          logger: options.logger.child({ requestId, transport: 'ws' }),
          client: { ip: ctx.extra.request.socket.remoteAddress },
        });
        traceOf.set(context, { parent: contextOfWebSocketOperation(payload.extensions, ctx.extra.request.headers, requestId), requestId });
        return context;
      },
      execute: (args) => inOperationSpan(args, () => execute(args)),
      subscribe: (args) => inOperationSpan(args, () => subscribe(args)),
      onError: (_ctx, _id, _payload, errors) => {
        options.logger.warn({ errors: errors.map((error) => error.message) }, 'subscription error');
      },
    },
    wsServer,
  );
  return {
    close: async () => {
      // Going away (1001): the gateway ends the affected client subscriptions, which resume elsewhere.
      for (const socket of wsServer.clients) socket.close(1001, 'Server shutting down');
      await disposable.dispose();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    },
  };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
