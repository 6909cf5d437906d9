import { monotonicFactory } from 'ulid';
import { z } from 'zod';

/**
 * What travels on the bus. `payload` is the only type-specific part; everything else is
 * routing and tracing metadata shared by all events.
 */
export interface EventEnvelope<TType extends string = string, TPayload = unknown> {
  /** ULID: unique and time-sortable, so "id order" is "creation order" (outbox, replay). */
  readonly id: string;
  readonly type: TType;
  readonly version: number;
  /** Service that owns the aggregate; streams are partitioned per source. */
  readonly source: string;
  /** Events of one aggregate are delivered in order. */
  readonly aggregateId: string;
  /** ISO 8601 timestamp (UTC). */
  readonly occurredAt: string;
  /** W3C trace context of the operation that produced the event. */
  readonly traceparent?: string;
  /** Id of the request that produced the event (logged by consumers next to the trace id). */
  readonly requestId?: string;
  readonly payload: TPayload;
}

/** Thrown when an envelope or its payload does not match the catalogue. */
export class EventValidationError extends Error {
  override readonly name = 'EventValidationError';
  constructor(
    readonly eventType: string,
    readonly issues: readonly { path: string; message: string }[],
    readonly eventId?: string,
  ) {
    super(
      `Invalid event "${eventType}"${eventId ? ` (id ${eventId})` : ''}: ` +
        issues.map((issue) => `${issue.path || '(root)'}: ${issue.message}`).join('; '),
    );
  }
}

const ULID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const TRACEPARENT_PATTERN = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** Shape of the metadata; the payload is checked separately against the registry. */
export const envelopeSchema = z.object({
  id: z.string().regex(ULID_PATTERN, 'expected a ULID'),
  type: z.string().min(1),
  version: z.number().int().positive(),
  source: z.string().min(1),
  aggregateId: z.string().min(1),
  occurredAt: z.iso.datetime({ offset: true }),
  traceparent: z.string().regex(TRACEPARENT_PATTERN, 'expected a W3C traceparent').optional(),
  requestId: z.string().min(1).max(128).optional(),
  payload: z.unknown(),
});

// Monotonic within this process: two ids minted in the same millisecond still sort in creation order.
const nextUlid = monotonicFactory();

/** A new sortable event id. */
export function createEventId(now: number = Date.now()): string {
  return nextUlid(now);
}

export function formatIssuePath(prefix: string, path: readonly PropertyKey[]): string {
  return [prefix, ...path.map(String)].filter((part) => part !== '').join('.');
}
