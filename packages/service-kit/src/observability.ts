import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { RequestHandler } from 'express';
import type { ApolloServerPlugin, BaseContext as ApolloBaseContext } from '@apollo/server';
import {
  clusterMetricsRenderer,
  contextFromHeaders,
  createGraphQLMetrics,
  getProcessRegistry,
  getTracer,
  inClusterWorker,
  otelContext,
  otelTrace,
  renderMetrics,
  secondsSince,
  SpanKind,
  SpanStatusCode,
  withRequestId,
  type Registry,
} from '@meridian/observability';
import type { DocumentNode, OperationDefinitionNode } from 'graphql';
import type { Logger } from './logger';

/**
 * `GET /metrics`: the service's registry followed by the process-wide one (Node.js, event bridge).
 * In a worker of `runWorkers`, the sum over every worker (collected by the primary process).
 */
export function metricsHandler(registry: Registry): RequestHandler {
  const registries = [registry, getProcessRegistry()];
  const render = inClusterWorker() ? clusterMetricsRenderer(registries) : () => renderMetrics(registries);
  return (_req, res, next) => {
    render().then(({ contentType, body }) => {
      res.setHeader('content-type', contentType);
      res.end(body);
    }, next);
  };
}

/** `<type> <name>` of the operation a document runs (its span name), `__anonymous` without a name. */
export function operationSpanName(document: DocumentNode, operationName?: string | null): string {
  const operation = document.definitions.find(
    (definition): definition is OperationDefinitionNode => definition.kind === 'OperationDefinition' && (!operationName || definition.name?.value === operationName),
  );
  return `${operation?.operation ?? 'operation'} ${operation?.name?.value ?? '__anonymous'}`;
}

/** Request id of an HTTP request: the caller's `x-request-id` when it is sane, else a new one. */
export function requestIdOf(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && value.length <= 128 && /^[\w.:-]+$/.test(value) ? value : randomUUID();
}

/**
 * A SERVER span per HTTP request whose parent is the caller's `traceparent`, active while `next`
 * runs (and for everything it starts: resolvers, Prisma, subgraph fetches, outbox writes), with
 * the request id in the trace baggage; ended when the response finishes or the client goes away.
 * `next` receives the request id (the caller's `x-request-id` when sane, else a new one).
 */
export function createRequestTracer(service: string) {
  const tracer = getTracer(service);
  return (req: http.IncomingMessage, res: http.ServerResponse, route: string, next: (requestId: string) => void) => {
    const requestId = requestIdOf(req.headers['x-request-id']);
    const parent = withRequestId(contextFromHeaders(req.headers), requestId);
    const span = tracer.startSpan(
      `${req.method} ${route}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'meridian.service': service, 'meridian.request_id': requestId } },
      parent,
    );
    res.once('finish', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    res.once('close', () => span.end()); // client went away: end() twice is a no-op
    otelContext.with(otelTrace.setSpan(parent, span), next, undefined, requestId);
  };
}

/**
 * Express middleware for `/graphql`: the request's SERVER span (`createRequestTracer`). Mount
 * after the body parser so the context is not lost across the body's stream callbacks. Sets
 * `res.locals.requestId`.
 */
export function tracingMiddleware(service: string): RequestHandler {
  const trace = createRequestTracer(service);
  return (req, res, next) => {
    trace(req, res, req.baseUrl || req.path, (requestId) => {
      res.locals.requestId = requestId;
      next();
    });
  };
}

/**
 * Apollo plugin: per-operation metrics (requests, errors by code, latency) and one request log
 * line with the request id and trace id; names the active span after the operation.
 */
export function createObservabilityPlugin<TContext extends ApolloBaseContext>(options: {
  registry: Registry;
  logger: Logger;
  /** The request's logger (with its request id), when the context has one. */
  loggerOf?: (context: TContext) => Logger | undefined;
}): ApolloServerPlugin<TContext> {
  const metrics = createGraphQLMetrics(options.registry);
  return {
    async requestDidStart({ contextValue }) {
      const start = performance.now();
      let operation: string | undefined;
      let type: string | undefined;
      return {
        async didResolveOperation(request) {
          operation = request.operationName ?? undefined;
          type = request.operation?.operation;
          const span = otelTrace.getActiveSpan();
          span?.updateName(`${type} ${operation ?? '__anonymous'}`);
          span?.setAttributes({ 'graphql.operation.type': type, 'graphql.operation.name': operation ?? '' });
        },
        async willSendResponse({ response }) {
          const seconds = secondsSince(start);
          const errors = response.body.kind === 'single' ? (response.body.singleResult.errors ?? []) : [];
          const codes = errors.map((error) => String(error.extensions?.code ?? 'INTERNAL_SERVER_ERROR'));
          metrics.record({ operation, type, seconds, errorCodes: codes });
          // The request's child logger is made only for a line that is written (at `warn`, most are not).
          const level = codes.length ? 'warn' : 'info';
          if (!options.logger.isLevelEnabled(level)) return;
          const logger = options.loggerOf?.(contextValue) ?? options.logger;
          const details = { operation: operation ?? null, type: type ?? null, durationMs: Math.round(seconds * 1000), ...(codes.length ? { errorCodes: codes } : {}) };
          if (codes.length) logger.warn(details, 'graphql request failed');
          else logger.info(details, 'graphql request');
        },
      };
    },
  };
}
