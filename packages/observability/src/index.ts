export {
  initTracing,
  getTracer,
  contextFromHeaders,
  contextFromTraceparent,
  contextOfWebSocketOperation,
  injectTraceHeaders,
  currentTraceparent,
  currentRequestId,
  activeTraceIds,
  withRequestId,
  inSpan,
  otelContext,
  otelTrace,
  REQUEST_ID_BAGGAGE,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  type Span,
  type Context,
  type Tracing,
  type TracingOptions,
} from './tracing';
export {
  Counter,
  Gauge,
  Histogram,
  Registry,
  LATENCY_BUCKETS,
  LAG_BUCKETS,
  OTHER_LABEL,
  counter,
  gauge,
  histogram,
  createLabelBucket,
  createServiceRegistry,
  getProcessRegistry,
  renderMetrics,
  secondsSince,
} from './metrics';
export { createGraphQLMetrics, MAX_OPERATION_NAMES, type GraphQLMetrics } from './graphqlMetrics';
export { getEventMetrics, type EventMetrics } from './eventMetrics';
export { SECRET_FIELDS, redactSecrets, traceLogMixin } from './logging';
export { installInMemoryTracing, type ReadableSpan } from './testing';
export { CLUSTER_WORKER_ENV, clusterMetricsRenderer, inClusterWorker, serveClusterMetrics } from './clusterMetrics';
