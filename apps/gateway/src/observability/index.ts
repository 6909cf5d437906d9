import type { RequestHandler } from 'express';
import type { ApolloServerPlugin } from '@apollo/server';
import type { FetchOutcome, SubgraphClientHooks } from '../subgraphs/subgraphClient';
import {
  counter,
  createServiceRegistry,
  gauge,
  histogram,
  injectTraceHeaders,
  type Registry,
} from '@meridian/observability';
import { createObservabilityPlugin, metricsHandler, tracingMiddleware, type Logger } from '@meridian/service-kit';

const FETCH_OUTCOME_LABELS: Record<FetchOutcome, string> = {
  success: 'ok',
  'graphql-errors': 'graphql_error',
  'bad-response': 'http_error',
  unreachable: 'network_error',
  timeout: 'timeout',
  'circuit-open': 'circuit_open',
};

/** The gateway's live figures (see `Gateway['stats']`). */
export interface GatewayStatsSource {
  (): { upstreamSubscriptions: number; relayedSubscriptions: number; subscribers: number; openWebSockets: number; upstreamSockets: number };
}

export interface GatewayObservability {
  registry: Registry;
  /** `GET /metrics`. */
  metricsRoute: RequestHandler;
  /** Server span per `/graphql` request (parent: the client's traceparent, if any). */
  tracing: RequestHandler;
  plugin: ApolloServerPlugin<{ requestId: string }>;
  /** For the subgraph client: trace headers on every attempt, fetch latency and outcome. */
  subgraphHooks: SubgraphClientHooks;
  /** Counts a request answered on the direct path (src/http/directPath.ts). */
  directPathAnswered: () => void;
  /** Counts a subscription event's entity fetch answered by an identical public one (subscriptions/sharedFetches.ts). */
  subscriptionFetchShared: (subgraph: string) => void;
}

/**
 * Everything the gateway exports to Prometheus and its tracer: per-operation metrics and request
 * logs, per-subgraph fetch latency and errors, and the live WebSocket/subscription figures
 * (read from `stats()` at scrape time, so they cost nothing between scrapes).
 */
export function createGatewayObservability(options: { logger: Logger; stats: GatewayStatsSource }): GatewayObservability {
  const registry = createServiceRegistry('gateway');
  const fetchDuration = histogram(registry, 'meridian_gateway_subgraph_fetch_duration_seconds', 'Latency of the gateway\'s fetches to each subgraph.', ['subgraph'] as const);
  const fetches = counter(registry, 'meridian_gateway_subgraph_fetches_total', 'Gateway fetches to each subgraph by outcome (ok | graphql_error | http_error | network_error | timeout | circuit_open).', [
    'subgraph',
    'outcome',
  ] as const);
  const figure = (name: string, help: string, read: (stats: ReturnType<GatewayStatsSource>) => number) =>
    gauge(registry, name, help, [] as const, function () {
      this.set(read(options.stats()));
    });
  figure('meridian_gateway_websockets_open', 'Client WebSocket connections open at the gateway.', (stats) => stats.openWebSockets);
  figure('meridian_gateway_subscriptions_active', 'Client subscriptions being served (WebSocket and HTTP).', (stats) => stats.subscribers);
  figure('meridian_gateway_upstream_subscriptions', 'Shared subscriptions the gateway holds on subgraphs.', (stats) => stats.upstreamSubscriptions);
  figure(
    'meridian_gateway_relayed_subscriptions',
    'Shared subscriptions of this worker\'s clients fed by the gateway worker that holds them upstream (GATEWAY_WORKERS > 1).',
    (stats) => stats.relayedSubscriptions,
  );
  figure('meridian_gateway_upstream_websockets', 'WebSocket connections from the gateway to subgraphs.', (stats) => stats.upstreamSockets);
  const directAnswers = counter(registry, 'meridian_gateway_direct_path_requests_total', 'POST /graphql requests answered on the direct path (known operations, without Express and Apollo Server\'s HTTP pipeline).', [] as const);
  const sharedFetches = counter(
    registry,
    'meridian_gateway_subscription_shared_fetches_total',
    'Entity fetches of subscription events answered by an identical in-flight fetch of another scope (the subgraph marked the answer public).',
    ['subgraph'] as const,
  );
  const childLoggers = new WeakMap<object, Logger>();
  return {
    registry,
    metricsRoute: metricsHandler(registry),
    tracing: tracingMiddleware('gateway'),
    plugin: createObservabilityPlugin<{ requestId: string }>({
      registry,
      logger: options.logger,
      loggerOf: (context) => {
        if (!('requestId' in context)) return undefined;
        let logger = childLoggers.get(context);
        if (!logger) childLoggers.set(context, (logger = options.logger.child({ requestId: context.requestId })));
        return logger;
      },
    }),
    directPathAnswered: () => directAnswers.inc(),
    subscriptionFetchShared: (subgraph) => sharedFetches.inc({ subgraph }),
    subgraphHooks: {
      // The active context is Apollo's fetch span (child of the request's server span).
      onRequest: (_subgraph, headers) => injectTraceHeaders(headers),
      onFetch: (subgraph, durationMs, outcome) => {
        fetchDuration.observe({ subgraph }, durationMs / 1_000);
        fetches.inc({ subgraph, outcome: FETCH_OUTCOME_LABELS[outcome] });
      },
    },
  };
}
