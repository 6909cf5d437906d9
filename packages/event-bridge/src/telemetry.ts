import {
  contextFromTraceparent,
  getEventMetrics,
  getTracer,
  inSpan,
  otelTrace,
  secondsSince,
  SpanKind,
} from '@meridian/observability';
import type { EventEnvelope } from './envelope';

const tracer = getTracer('event-bridge');

/**
 * Runs a consumer's handler on a batch inside a CONSUMER span whose parent is the producing
 * request's span (the first event's `traceparent`; the others are linked), with the producing
 * request id in the trace baggage: the handler's logs, database work and any events it writes
 * in turn stay in the producer's trace. Counts each run, its duration and, on the first
 * attempt, each event's lag.
 */
export function handleWithTelemetry(
  group: string,
  events: readonly EventEnvelope[],
  attempt: number,
  run: () => Promise<void>,
): Promise<void> {
  const metrics = getEventMetrics();
  const first = events[0];
  const startedAt = Date.now();
  const start = performance.now();
  const links = events
    .slice(1)
    .map((event) => otelTrace.getSpanContext(contextFromTraceparent(event.traceparent)))
    .filter((spanContext) => spanContext !== undefined)
    .map((spanContext) => ({ context: spanContext }));
  const record = (outcome: 'ok' | 'error') => {
    const seconds = secondsSince(start) / Math.max(events.length, 1);
    for (const event of events) {
      const lag = attempt === 1 ? (startedAt - Date.parse(event.occurredAt)) / 1000 : undefined;
      metrics.handled(group, event.type, outcome, seconds, lag);
    }
  };
  return inSpan(
    tracer,
    `consume ${first?.type ?? 'events'}`,
    {
      kind: SpanKind.CONSUMER,
      parent: contextFromTraceparent(first?.traceparent, first?.requestId),
      links,
      attributes: {
        'messaging.system': 'meridian',
        'messaging.consumer.group.name': group,
        'messaging.batch.message_count': events.length,
        'meridian.event.id': first?.id ?? '',
        'meridian.event.attempt': attempt,
      },
    },
    async () => {
      try {
        await run();
        record('ok');
      } catch (error) {
        record('error');
        throw error;
      }
    },
  );
}

/** Counts a dead-lettered event (raw: it may not even have parsed). */
export function recordDeadLetter(group: string, raw: unknown): void {
  const type = typeof raw === 'object' && raw !== null && typeof (raw as { type?: unknown }).type === 'string' ? (raw as { type: string }).type : 'unknown';
  getEventMetrics().deadLettered(group, type);
}

/** Counts events appended to the bus. */
export function recordPublished(events: readonly EventEnvelope[]): void {
  const metrics = getEventMetrics();
  for (const event of events) metrics.published(event.type);
}
