import { GraphQLBoolean, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString, parse, type ExecutionResult } from 'graphql';
import { getTracer, inSpan, installInMemoryTracing, otelTrace, SpanKind, SpanStatusCode } from '@meridian/observability';
import { createTracedSubscribe } from '../src/eventSpans';

const tracing = installInMemoryTracing();

interface TestEvent {
  id: string;
  type?: string;
  traceparent?: string;
  fail?: boolean;
}

let source: AsyncIterable<TestEvent> = (async function* () {})();
const resolvedIn: (string | undefined)[] = [];
const Change = new GraphQLObjectType({ name: 'Change', fields: { id: { type: new GraphQLNonNull(GraphQLString) } } });
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLBoolean } } }),
  subscription: new GraphQLObjectType({
    name: 'Subscription',
    fields: {
      changed: {
        type: Change,
        subscribe: () => source,
        resolve: (event: TestEvent) => {
          resolvedIn.push(otelTrace.getActiveSpan()?.spanContext().spanId);
          if (event.fail) throw new Error('unreadable event');
          return event;
        },
      },
    },
  }),
});

const subscribe = createTracedSubscribe('unit');
const run = (name: string) => subscribe({ schema, document: parse(`subscription ${name} { changed { id } }`), operationName: name });
const eventSpans = (name: string) => tracing.spans().filter((span) => span.name === `subscription event ${name}`);

describe('createTracedSubscribe (a span per subscription event)', () => {
  beforeEach(() => {
    tracing.reset();
    resolvedIn.length = 0;
  });

  it('executes each event in a CONSUMER span of its own, linked to the set-up and to the producer', async () => {
    const producer = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };
    source = (async function* () {
      yield { id: 'e1', type: 'task.created', traceparent: `00-${producer.traceId}-${producer.spanId}-01` };
      yield { id: 'e2', traceparent: 'not a traceparent' };
    })();
    let setUp = { traceId: '', spanId: '' };
    const stream = (await inSpan(getTracer('unit'), 'subscription Changed', { kind: SpanKind.SERVER }, async (span) => {
      setUp = span.spanContext();
      return run('Changed');
    })) as AsyncIterableIterator<ExecutionResult>;

    // Each result tells the gateway its event span (extensions.traceparent), for the gateway's span to link to.
    const results = [await stream.next()];
    // Still open while graphql-ws serializes and writes the result: it ends when the next event is asked for.
    expect(eventSpans('Changed')).toHaveLength(0);
    results.push(await stream.next());
    expect(await stream.next()).toEqual({ done: true, value: undefined });

    const [first, second] = eventSpans('Changed');
    const traceparentOf = (span: typeof first) => `00-${span?.spanContext().traceId}-${span?.spanContext().spanId}-01`;
    expect(results).toEqual([
      { done: false, value: { data: { changed: { id: 'e1' } }, extensions: { traceparent: traceparentOf(first) } } },
      { done: false, value: { data: { changed: { id: 'e2' } }, extensions: { traceparent: traceparentOf(second) } } },
    ]);
    expect(first?.kind).toBe(SpanKind.CONSUMER);
    expect(first?.parentSpanContext).toBeUndefined();
    expect([setUp.traceId, producer.traceId]).not.toContain(first?.spanContext().traceId);
    expect(first?.attributes).toEqual({ 'meridian.service': 'unit', 'meridian.event.id': 'e1', 'meridian.event.type': 'task.created' });
    expect(first?.links.map((link) => link.context.spanId)).toEqual([setUp.spanId, producer.spanId]);
    expect(first?.links[1]?.context.traceId).toBe(producer.traceId);
    // The resolver ran inside the event's span.
    expect(resolvedIn).toEqual([first?.spanContext().spanId, second?.spanContext().spanId]);
    // A malformed traceparent is no link; the set-up still is.
    expect(second?.links.map((link) => link.context.spanId)).toEqual([setUp.spanId]);
  });

  it('ends the open span and closes the source when the client unsubscribes', async () => {
    let sourceClosed = false;
    source = (async function* () {
      try {
        yield { id: 'e1' };
        yield { id: 'e2' };
      } finally {
        sourceClosed = true;
      }
    })();
    const stream = (await run('Unsubscribed')) as AsyncIterableIterator<ExecutionResult>;
    await stream.next();
    await stream.return!();
    expect(sourceClosed).toBe(true);
    const spans = eventSpans('Unsubscribed');
    expect(spans).toHaveLength(1);
    // Subscribed outside any span: no set-up to link to.
    expect(spans[0]?.links).toEqual([]);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it('marks the span of an event that resolved with errors', async () => {
    source = (async function* () {
      yield { id: 'e1', fail: true };
    })();
    const stream = (await run('Failing')) as AsyncIterableIterator<ExecutionResult>;
    const result = await stream.next();
    expect(result.value?.errors?.[0]?.message).toBe('unreadable event');
    await stream.next();
    expect(eventSpans('Failing')[0]?.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('returns a failed set-up as a result, with no event spans', async () => {
    const result = await subscribe({ schema, document: parse('subscription Unknown { nope }'), operationName: 'Unknown' });
    expect(Symbol.asyncIterator in result).toBe(false);
    expect((result as ExecutionResult).errors?.length).toBeGreaterThan(0);
  });
});
