import {
  context,
  propagation,
  trace,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  type Context,
  type Span,
  type Tracer,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { OTLPTraceExporter as OtlpTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

export { ROOT_CONTEXT, SpanKind, SpanStatusCode, type Span, type Context };

export interface TracingOptions {
  /** `service.name` of the exported resource (in embedded mode one process hosts every service). */
  serviceName: string;
  /** OTLP/HTTP base URL (OTEL_EXPORTER_OTLP_ENDPOINT); spans go to `<endpoint>/v1/traces`. Unset = not recorded. */
  otlpEndpoint?: string;
  /** Share of new traces recorded when exporting (OTEL_TRACES_SAMPLE_RATIO, default 1); children follow their parent. */
  sampleRatio?: number;
  /** Extra processors (tests pass a SimpleSpanProcessor over an InMemorySpanExporter); they turn recording on. */
  spanProcessors?: SpanProcessor[];
}

export interface Tracing {
  /** True when spans are recorded and exported; false = ids are still made and propagated, nothing else. */
  readonly recording: boolean;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

let installed: (Tracing & { provider: BasicTracerProvider }) | undefined;

/**
 * Installs the process-wide tracer provider, context manager (AsyncLocalStorage) and W3C
 * propagators (traceparent + baggage). Idempotent: the first call in a process wins, later ones
 * return it (in embedded mode every service calls it).
 *
 * Off (no endpoint, no processors): the sampler records nothing, yet every request still gets a
 * trace id, which is logged and propagated (traceparent flag 00), so logs correlate across
 * services at the cost of two random ids per span.
 */
export function initTracing(options: TracingOptions): Tracing {
  if (installed) return installed;
  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (options.otlpEndpoint) {
    const url = `${options.otlpEndpoint.replace(/\/+$/, '')}/v1/traces`;
    // Loaded only when spans are exported: a process that exports none never holds the exporter
    // and its protobuf/HTTP stack (~3 MB of heap).
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as { OTLPTraceExporter: typeof OtlpTraceExporter };
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url })));
  }
  const recording = processors.length > 0;
  const ratio = options.sampleRatio ?? 1;
  if (!(ratio >= 0 && ratio <= 1)) throw new Error(`Trace sample ratio must be between 0 and 1, got ${ratio}.`);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName }),
    sampler: recording ? new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }) : new AlwaysOffSampler(),
    spanProcessors: processors,
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  trace.setGlobalTracerProvider(provider);
  installed = {
    provider,
    recording,
    forceFlush: () => provider.forceFlush(),
    shutdown: async () => {
      await provider.shutdown();
    },
  };
  return installed;
}

/** Tracer of one service (instrumentation scope = the service name). */
export function getTracer(service: string): Tracer {
  return trace.getTracer(`meridian.${service}`);
}

const headerGetter: TextMapGetter<Record<string, string | string[] | undefined>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

const headersSetter: TextMapSetter<{ set(name: string, value: string): unknown }> = {
  set: (carrier, key, value) => void carrier.set(key, value),
};

/** The context described by incoming HTTP headers (traceparent, baggage), or the root context. */
export function contextFromHeaders(headers: Record<string, string | string[] | undefined>): Context {
  return propagation.extract(ROOT_CONTEXT, headers, headerGetter);
}

/** Writes traceparent (and baggage) of the active context into outgoing headers (fetch Headers or similar). */
export function injectTraceHeaders(headers: { set(name: string, value: string): unknown } | undefined): void {
  if (headers) propagation.inject(context.active(), headers, headersSetter);
}

/** W3C traceparent of the active span (or of the span in `ctx`), or undefined when there is none. */
export function currentTraceparent(ctx: Context = context.active()): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent;
}

/** A context whose parent is the span a W3C traceparent names (root context when absent or malformed). */
export function contextFromTraceparent(traceparent: string | undefined, requestId?: string): Context {
  if (!traceparent) return withRequestId(ROOT_CONTEXT, requestId);
  return withRequestId(propagation.extract(ROOT_CONTEXT, { traceparent }), requestId);
}

/**
 * The parent context of a GraphQL-over-WebSocket operation: the `traceparent` in its subscribe
 * message's `extensions` (a WebSocket carries many operations, and browsers cannot set headers
 * on the upgrade), else the upgrade request's headers, else the root context; with the request id.
 */
export function contextOfWebSocketOperation(
  extensions: unknown,
  upgradeHeaders: Record<string, string | string[] | undefined>,
  requestId?: string,
): Context {
  const traceparent = (extensions as { traceparent?: unknown } | null | undefined)?.traceparent;
  const parent = typeof traceparent === 'string' ? propagation.extract(ROOT_CONTEXT, { traceparent }) : contextFromHeaders(upgradeHeaders);
  return withRequestId(parent, requestId);
}

/** Trace and span id of the active span (for logs), undefined outside a span. */
export function activeTraceIds(): { traceId: string; spanId: string } | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const { traceId, spanId } = span.spanContext();
  return trace.isSpanContextValid(span.spanContext()) ? { traceId, spanId } : undefined;
}

/** Baggage entry carrying the request id from the gateway into subgraphs and events. */
export const REQUEST_ID_BAGGAGE = 'meridian.request_id';

/** The context with the request id in its baggage (propagated with the trace context). */
export function withRequestId(ctx: Context, requestId: string | undefined): Context {
  if (!requestId) return ctx;
  const baggage = propagation.getBaggage(ctx) ?? propagation.createBaggage();
  return propagation.setBaggage(ctx, baggage.setEntry(REQUEST_ID_BAGGAGE, { value: requestId }));
}

/** Request id of the active context, if a request (or a consumed event) set one. */
export function currentRequestId(ctx: Context = context.active()): string | undefined {
  return propagation.getBaggage(ctx)?.getEntry(REQUEST_ID_BAGGAGE)?.value;
}

/** Runs `fn` inside a new active span; records a thrown error on it and rethrows. */
export async function inSpan<T>(
  tracer: Tracer,
  name: string,
  options: { kind?: SpanKind; attributes?: Record<string, string | number | boolean>; parent?: Context; links?: { context: ReturnType<Span['spanContext']> }[] },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer.startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes, links: options.links }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
    throw error;
  } finally {
    span.end();
  }
}

export { context as otelContext, trace as otelTrace };
