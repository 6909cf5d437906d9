import { currentRequestId, currentTraceparent } from '@meridian/observability';
import type { z } from 'zod';
import { EventValidationError, createEventId, envelopeSchema, formatIssuePath, type EventEnvelope } from './envelope';

/** One entry of an event catalogue: a type at a version, who emits it and its payload schema. */
export interface EventDefinition<
  TType extends string = string,
  TVersion extends number = number,
  TSchema extends z.ZodType = z.ZodType,
> {
  readonly type: TType;
  readonly version: TVersion;
  readonly source: string;
  readonly schema: TSchema;
  /** Which payload field identifies the aggregate (ordering key). */
  readonly aggregateId: (payload: z.output<TSchema>) => string;
  readonly description?: string;
}

/** The envelope a definition describes (payload as validated, i.e. the schema's output). */
export type EnvelopeOf<D> =
  D extends EventDefinition<infer T, number, infer S> ? EventEnvelope<T, z.output<S>> : never;

/**
 * The schemas the bus validates against. The bridge only knows this interface, so it stays
 * generic; a catalogue package (e.g. @meridian/domain-events) supplies the content.
 * `TEvent` is the union of envelopes it accepts, used to type handlers.
 */
export interface EventRegistry<TEvent extends EventEnvelope = EventEnvelope> {
  readonly definitions: readonly EventDefinition[];
  find(type: string, version: number): EventDefinition | undefined;
  /** Source (stream family) of a type; throws for a type the registry does not know. */
  sourceOf(type: string): string;
  /** Checks metadata and payload; returns the envelope with the parsed payload. Throws EventValidationError. */
  validate(raw: unknown): TEvent;
  /** Phantom field carrying the event union for type inference; always undefined at runtime. */
  readonly __events?: TEvent;
}

/** Keeps literal types of a definition (type, version, schema). */
export function defineEvent<TType extends string, TVersion extends number, TSchema extends z.ZodType>(
  definition: EventDefinition<TType, TVersion, TSchema>,
): EventDefinition<TType, TVersion, TSchema> {
  return definition;
}

export function createEventRegistry<const TDefinitions extends readonly EventDefinition<string, number, any>[]>(
  definitions: TDefinitions,
): EventRegistry<EnvelopeOf<TDefinitions[number]>> {
  type Event = EnvelopeOf<TDefinitions[number]>;
  const byKey = new Map<string, EventDefinition>();
  const sources = new Map<string, string>();
  for (const definition of definitions as readonly EventDefinition[]) {
    const key = `${definition.type}@${definition.version}`;
    if (byKey.has(key)) throw new Error(`Event ${key} is defined twice`);
    const knownSource = sources.get(definition.type);
    // All versions of a type must share a source, or its events would land on different streams.
    if (knownSource !== undefined && knownSource !== definition.source) {
      throw new Error(`Event type "${definition.type}" is defined with two sources: ${knownSource}, ${definition.source}`);
    }
    byKey.set(key, definition);
    sources.set(definition.type, definition.source);
  }

  return {
    definitions: definitions as readonly EventDefinition[],
    find: (type, version) => byKey.get(`${type}@${version}`),
    sourceOf(type) {
      const source = sources.get(type);
      if (source === undefined) throw new Error(`Unknown event type "${type}"`);
      return source;
    },
    validate(raw) {
      const typeHint =
        typeof raw === 'object' && raw !== null && typeof (raw as { type?: unknown }).type === 'string'
          ? (raw as { type: string }).type
          : '(unknown type)';
      const idHint =
        typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'string'
          ? (raw as { id: string }).id
          : undefined;
      const meta = envelopeSchema.safeParse(raw);
      if (!meta.success) {
        throw new EventValidationError(
          typeHint,
          meta.error.issues.map((issue) => ({ path: formatIssuePath('', issue.path), message: issue.message })),
          idHint,
        );
      }
      const envelope = meta.data;
      const definition = byKey.get(`${envelope.type}@${envelope.version}`);
      if (!definition) {
        throw new EventValidationError(
          envelope.type,
          [{ path: 'type', message: `no schema registered for "${envelope.type}" version ${envelope.version}` }],
          envelope.id,
        );
      }
      if (definition.source !== envelope.source) {
        throw new EventValidationError(
          envelope.type,
          [{ path: 'source', message: `expected "${definition.source}", received "${envelope.source}"` }],
          envelope.id,
        );
      }
      const payload = definition.schema.safeParse(envelope.payload);
      if (!payload.success) {
        throw new EventValidationError(
          envelope.type,
          payload.error.issues.map((issue) => ({ path: formatIssuePath('payload', issue.path), message: issue.message })),
          envelope.id,
        );
      }
      const validated: EventEnvelope = {
        id: envelope.id,
        type: envelope.type,
        version: envelope.version,
        source: envelope.source,
        aggregateId: envelope.aggregateId,
        occurredAt: envelope.occurredAt,
        ...(envelope.traceparent !== undefined ? { traceparent: envelope.traceparent } : {}),
        ...(envelope.requestId !== undefined ? { requestId: envelope.requestId } : {}),
        payload: payload.data,
      };
      return validated as Event;
    },
  };
}

function traceFields(options: CreateEnvelopeOptions): { traceparent?: string; requestId?: string } {
  const traceparent = options.traceparent ?? currentTraceparent();
  const requestId = options.requestId ?? currentRequestId();
  return { ...(traceparent ? { traceparent } : {}), ...(requestId ? { requestId } : {}) };
}

export interface CreateEnvelopeOptions {
  readonly id?: string;
  readonly occurredAt?: Date;
  /** Defaults to the active trace context (the producing request's span). */
  readonly traceparent?: string;
  /** Defaults to the active request's id (trace baggage). */
  readonly requestId?: string;
}

/**
 * Builds and validates an envelope for a definition: the aggregate id and source come from
 * the definition, so producers cannot get them wrong.
 */
export function createEnvelope<TType extends string, TVersion extends number, TSchema extends z.ZodType>(
  definition: EventDefinition<TType, TVersion, TSchema>,
  payload: z.input<TSchema>,
  options: CreateEnvelopeOptions = {},
): EventEnvelope<TType, z.output<TSchema>> {
  const parsed = definition.schema.safeParse(payload);
  const id = options.id ?? createEventId();
  if (!parsed.success) {
    throw new EventValidationError(
      definition.type,
      parsed.error.issues.map((issue) => ({ path: formatIssuePath('payload', issue.path), message: issue.message })),
      id,
    );
  }
  return {
    id,
    type: definition.type,
    version: definition.version,
    source: definition.source,
    aggregateId: definition.aggregateId(parsed.data),
    occurredAt: (options.occurredAt ?? new Date()).toISOString(),
    ...traceFields(options),
    payload: parsed.data,
  };
}
