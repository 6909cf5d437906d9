import { createSourceEventStream, execute, getOperationAST, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { contextFromTraceparent, currentTraceparent, getTracer, otelContext, otelTrace, ROOT_CONTEXT, SpanKind, SpanStatusCode, type Span } from '@meridian/observability';

type SpanContext = ReturnType<Span['spanContext']>;

/**
 * graphql-js's `subscribe`, with a CONSUMER span `subscription event <operation>` for each event
 * of the stream: the event's execution (resolvers, their reads) runs inside it, and it ends when
 * the next event is asked for, which graphql-ws does once it has serialized and written this
 * one. Each span is the root of a trace of its own (a subscription can live for days, and its
 * events belong to the requests that caused them), with links to the subscription's set-up span
 * (the span active when this is called) and to the span that produced the event (a domain
 * event's `traceparent`).
 */
export function createTracedSubscribe(service: string) {
  const tracer = getTracer(service);
  // One object for every span start (the SDK copies it): no allocation per event for it.
  const attributes = { 'meridian.service': service };
  return async (args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source;
    const setUp = otelTrace.getSpanContext(otelContext.active());
    const name = `subscription event ${getOperationAST(args.document, args.operationName)?.name?.value ?? '__anonymous'}`;
    return executeInSpans(source, args, (event) => {
      const span = tracer.startSpan(name, { kind: SpanKind.CONSUMER, attributes }, ROOT_CONTEXT);
      // Links and event attributes only when the span is recorded: with tracing off (or this trace
      // not sampled) an event costs a span start and its two random ids, as at the gateway.
      if (span.isRecording()) {
        if (setUp) span.addLink({ context: setUp });
        const producer = producerOf(event);
        if (producer) span.addLink({ context: producer });
        const { id, type } = (event ?? {}) as { id?: unknown; type?: unknown };
        if (typeof id === 'string') span.setAttribute('meridian.event.id', id);
        if (typeof type === 'string') span.setAttribute('meridian.event.type', type);
      }
      return span;
    });
  };
}

/** The span that produced an event: a domain event's W3C `traceparent`, when it has a valid one. */
function producerOf(event: unknown): SpanContext | undefined {
  const traceparent = (event as { traceparent?: unknown } | null | undefined)?.traceparent;
  return typeof traceparent === 'string' ? otelTrace.getSpanContext(contextFromTraceparent(traceparent)) : undefined;
}

/** Executes each event of `source` (as graphql-js's `subscribe` does) inside the span `startSpan` returns. */
function executeInSpans(source: AsyncIterable<unknown>, args: ExecutionArgs, startSpan: (event: unknown) => Span): AsyncIterableIterator<ExecutionResult> {
  const events = source[Symbol.asyncIterator]();
  let closed = false;
  // The span of the event being delivered (still open while graphql-ws serializes and writes it).
  let current: Span | undefined;
  const endCurrent = () => {
    current?.end();
    current = undefined;
  };
  const close = async () => {
    endCurrent();
    if (closed) return;
    closed = true;
    await events.return?.();
  };
  const iterator: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      endCurrent();
      const item = await events.next();
      if (item.done || closed) return { done: true, value: undefined };
      const span = (current = startSpan(item.value));
      try {
        const inEvent = otelTrace.setSpan(ROOT_CONTEXT, span);
        const result = await otelContext.with(inEvent, execute, undefined, { ...args, rootValue: item.value });
        if (result.errors?.length) span.setStatus({ code: SpanStatusCode.ERROR });
        // The gateway links its own span of this event to this one (extensions stay between the two).
        if (span.isRecording()) result.extensions = { ...result.extensions, traceparent: currentTraceparent(inEvent) };
        return { done: false, value: result };
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
        await close().catch(() => undefined);
        throw error;
      }
    },
    async return() {
      await close();
      return { done: true, value: undefined };
    },
    async throw(error?: unknown) {
      await close();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
