import {
  EventValidationError,
  createEnvelope,
  createInMemoryEventBus,
  createRedisEventBus,
  type BatchEventBus,
  type EventBusLogger,
  type EventDefinition,
} from '@meridian/event-bridge';
import type { ZodType } from 'zod';
import {
  domainEventCatalogue,
  domainEventRegistry,
  type DomainEvent,
  type DomainEventOf,
  type DomainEventPayload,
  type DomainEventType,
} from './catalogue';

export interface CreateDomainEventInput<T extends DomainEventType> {
  readonly payload: DomainEventPayload<T>;
  /** Optional: derived from the payload; if given it must match (guards against mix-ups). */
  readonly aggregateId?: string;
  /** Optional: the catalogue's source; if given it must match. */
  readonly source?: string;
  readonly traceparent?: string;
  readonly occurredAt?: Date;
  readonly id?: string;
}

/**
 * Builds a validated envelope of the current version of `type`. The payload is checked at
 * compile time (its type) and at run time (the schema); throws EventValidationError.
 */
export function createDomainEvent<T extends DomainEventType>(type: T, input: CreateDomainEventInput<T>): DomainEventOf<T> {
  const definition = domainEventCatalogue[type];
  if (input.source !== undefined && input.source !== definition.source) {
    throw new EventValidationError(type, [{ path: 'source', message: `expected "${definition.source}", received "${input.source}"` }]);
  }
  // The catalogue lookup loses the link between T and its schema; the return type restores it.
  const event = createEnvelope(definition as unknown as EventDefinition<string, number, ZodType>, input.payload, {
    ...(input.id !== undefined ? { id: input.id } : {}),
    ...(input.occurredAt !== undefined ? { occurredAt: input.occurredAt } : {}),
    ...(input.traceparent !== undefined ? { traceparent: input.traceparent } : {}),
  });
  if (input.aggregateId !== undefined && input.aggregateId !== event.aggregateId) {
    throw new EventValidationError(type, [
      { path: 'aggregateId', message: `expected "${event.aggregateId}" (from the payload), received "${input.aggregateId}"` },
    ]);
  }
  return event as DomainEventOf<T>;
}

/** Validates an unknown value (e.g. a message body) as a domain event; throws EventValidationError naming the field. */
export function parseEvent(raw: unknown): DomainEvent {
  return domainEventRegistry.validate(raw);
}

export type ValidateEventResult = { success: true; event: DomainEvent } | { success: false; error: EventValidationError };

/** Like parseEvent, without throwing. */
export function validateEvent(raw: unknown): ValidateEventResult {
  try {
    return { success: true, event: domainEventRegistry.validate(raw) };
  } catch (error) {
    if (error instanceof EventValidationError) return { success: false, error };
    throw error;
  }
}

/** Type guard to narrow a DomainEvent (e.g. in a handler subscribed to several types). */
export function isDomainEvent<T extends DomainEventType>(event: DomainEvent, type: T): event is DomainEventOf<T> {
  return event.type === type;
}

export interface PlatformEventBusOptions {
  /** Redis URL: distributed mode. Absent: in-memory bus (embedded mode, one process). */
  readonly redisUrl?: string | undefined;
  /** Key namespace in Redis (default "meridian:events"). */
  readonly streamPrefix?: string;
  readonly logger?: EventBusLogger;
}

/** The composition root's one decision: which bus. Business code only sees EventBus<DomainEvent>. */
export function createPlatformEventBus(options: PlatformEventBusOptions = {}): BatchEventBus<DomainEvent> {
  const common = { registry: domainEventRegistry, ...(options.logger ? { logger: options.logger } : {}) };
  if (options.redisUrl) {
    return createRedisEventBus({ ...common, redis: options.redisUrl, streamPrefix: options.streamPrefix ?? 'meridian:events' });
  }
  return createInMemoryEventBus(common);
}
