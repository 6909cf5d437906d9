import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import {
  getProcessRegistry,
  getTracer,
  inSpan,
  installInMemoryTracing,
  otelContext,
  SpanKind,
  withRequestId,
} from '@meridian/observability';
import { OUTBOX_INBOX_TABLES_SQL, createInMemoryEventBus, createOutboxRelay, writeOutbox, type EventBus } from '../src/index';
import { PrismaClient } from './generated/prisma/client';
import { createMemoryLogger, eventually, placed, testRegistry, unique, type TestEvent } from './fixtures';

const tracing = installInMemoryTracing();

let pglite: PGlite;
let prisma: PrismaClient;
let bus: EventBus<TestEvent>;

beforeAll(async () => {
  pglite = new PGlite();
  await pglite.exec(OUTBOX_INBOX_TABLES_SQL);
  prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
  bus = createInMemoryEventBus({ registry: testRegistry, logger: createMemoryLogger(), retry: { maxAttempts: 2, initialDelayMs: 1 } });
});

afterAll(async () => {
  await bus.close();
  await prisma.$disconnect();
  await pglite.close();
});

async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  const metric = await getProcessRegistry().getSingleMetric(name)?.get();
  const match = metric?.values.find((value) => Object.entries(labels).every(([key, expected]) => value.labels[key] === expected));
  return match?.value ?? 0;
}

describe('event bridge telemetry', () => {
  it('carries the producing request trace context and request id through the outbox to the consumer span', async () => {
    const group = unique('traced');
    const seen: { traceparent?: string; requestId?: string }[] = [];
    await bus.subscribe({
      group,
      types: ['shop.order-placed'],
      handler: async (event) => void seen.push({ traceparent: event.traceparent, requestId: event.requestId }),
    });
    const relay = createOutboxRelay({ prisma, bus, logger: createMemoryLogger(), pollIntervalMs: 50 });
    const tracer = getTracer('test');
    const parent = withRequestId(otelContext.active(), 'req-outbox-1');
    // A "request": the event is built and written inside its server span.
    const producer = await inSpan(tracer, 'POST /graphql', { kind: SpanKind.SERVER, parent }, async (span) => {
      const event = placed(unique('order'), 1, 'traced');
      await prisma.$transaction((tx) => writeOutbox(tx, [event]));
      return { span: span.spanContext(), event };
    });
    relay.notify();
    try {
      await eventually(() => expect(seen).toHaveLength(1));
    } finally {
      await relay.stop();
    }
    const [row] = await prisma.$queryRaw<{ traceparent: string; request_id: string }[]>`
      SELECT traceparent, request_id FROM outbox_events WHERE id = ${producer.event.id}`;
    expect(row).toEqual({ traceparent: `00-${producer.span.traceId}-${producer.span.spanId}-01`, request_id: 'req-outbox-1' });
    expect(seen[0]).toEqual({ traceparent: row!.traceparent, requestId: 'req-outbox-1' });
    const consumer = tracing.spans().find((span) => span.name === 'consume shop.order-placed' && span.attributes['messaging.consumer.group.name'] === group);
    expect(consumer?.spanContext().traceId).toBe(producer.span.traceId);
    expect(consumer?.parentSpanContext?.spanId).toBe(producer.span.spanId);
    expect(consumer?.kind).toBe(SpanKind.CONSUMER);
  });

  it('keeps old outbox rows (no trace context) publishable', async () => {
    const group = unique('legacy');
    const received: TestEvent[] = [];
    await bus.subscribe({ group, types: ['shop.order-placed'], startFrom: 'latest', handler: async (event) => void received.push(event) });
    const event = placed(unique('order'), 1, 'legacy');
    await pglite.query(
      `INSERT INTO outbox_events (id, type, version, source, aggregate_id, occurred_at, payload) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [event.id, event.type, event.version, event.source, event.aggregateId, event.occurredAt, JSON.stringify(event.payload)],
    );
    const relay = createOutboxRelay({ prisma, bus, logger: createMemoryLogger(), pollIntervalMs: 50 });
    try {
      await relay.flush();
      await eventually(() => expect(received.map((item) => item.id)).toEqual([event.id]));
    } finally {
      await relay.stop();
    }
    expect(received[0]?.traceparent).toBeUndefined();
    expect(received[0]?.requestId).toBeUndefined();
  });

  it('counts published, handled, failed and dead-lettered events by type and group', async () => {
    const group = unique('counted');
    const before = await metricValue('meridian_events_published_total', { type: 'shop.order-placed' });
    await bus.subscribe({
      group,
      types: ['shop.order-placed'],
      startFrom: 'latest',
      handler: async (event) => {
        if (event.payload.note === 'poison') throw new Error('cannot handle this one');
      },
    });
    await bus.publish(placed(unique('order'), 1, 'fine'));
    await eventually(async () => expect(await metricValue('meridian_events_consumed_total', { group, type: 'shop.order-placed', outcome: 'ok' })).toBe(1));
    await bus.publish(placed(unique('order'), 1, 'poison'));
    await eventually(async () => expect(await metricValue('meridian_events_dead_lettered_total', { group, type: 'shop.order-placed' })).toBe(1));
    expect(await metricValue('meridian_events_published_total', { type: 'shop.order-placed' })).toBe(before + 2);
    expect(await metricValue('meridian_events_consumed_total', { group, type: 'shop.order-placed', outcome: 'ok' })).toBe(1);
    expect(await metricValue('meridian_events_consumed_total', { group, type: 'shop.order-placed', outcome: 'error' })).toBe(2);
    const lag = await getProcessRegistry().getSingleMetric('meridian_event_lag_seconds')?.get();
    const lagCount = lag?.values.find((value) => value.labels.group === group && (value as { metricName?: string }).metricName === 'meridian_event_lag_seconds_count');
    expect(lagCount?.value).toBe(2); // first attempts only
  });
});
