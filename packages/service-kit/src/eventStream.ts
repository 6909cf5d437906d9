import type { EventBus, Subscription } from '@meridian/event-bridge';
import type { DomainEvent, DomainEventType } from '@meridian/domain-events';
import { createError } from '@meridian/errors';

export interface EventStreamOptions<TType extends DomainEventType> {
  types: readonly TType[];
  /** Resume after this event id (a cursor a client received): missed retained events come first. */
  after?: string | null;
  /** Only events this subscriber may see and asked for. */
  filter: (event: Extract<DomainEvent, { type: TType }>) => boolean;
  /** Events waiting for a slow subscriber before it is ended with an error. */
  maxBuffered?: number;
}

export const DEFAULT_MAX_BUFFERED_EVENTS = 1_000;

/**
 * The events behind a GraphQL subscription field: retained events after the cursor (replay),
 * then live ones, with no gap and no duplicate. Listening starts before the replay, and live
 * events already replayed are skipped by id. A subscriber that falls `maxBuffered` events
 * behind gets an explicit error rather than silently lost events.
 *
 * A hand-written iterator rather than an async generator: `return()` (the client unsubscribed)
 * must end a wait for the next event at once, which a suspended generator cannot do.
 */
export function streamEvents<TType extends DomainEventType>(
  bus: EventBus<DomainEvent>,
  options: EventStreamOptions<TType>,
): AsyncIterableIterator<Extract<DomainEvent, { type: TType }>> {
  type Event = Extract<DomainEvent, { type: TType }>;
  const maxBuffered = options.maxBuffered ?? DEFAULT_MAX_BUFFERED_EVENTS;
  const queue: Event[] = [];
  const replayed = new Set<string>();
  let overflow = false;
  let interrupted: Error | undefined;
  let closed = false;
  let wake: (() => void) | undefined;
  let subscription: Subscription | undefined;

  const ready = (async () => {
    subscription = await bus.listen({
      types: options.types,
      handler: (event) => {
        const typed = event as Event;
        if (closed || replayed.has(typed.id) || !options.filter(typed)) return;
        if (queue.length >= maxBuffered) overflow = true;
        else queue.push(typed);
        wake?.();
      },
      // The bus is gone (Redis down): end rather than hang; the client resumes with its cursor.
      onInterrupted: (error) => {
        interrupted ??= error;
        wake?.();
      },
    });
    if (options.after) {
      const missed: Event[] = [];
      await bus.replay({
        types: options.types,
        fromId: options.after,
        handler: (event) => {
          const typed = event as Event;
          if (options.filter(typed)) missed.push(typed);
        },
      });
      for (const event of missed) replayed.add(event.id);
      // Live events that arrived during the replay and were also replayed are dropped here.
      const live = queue.splice(0).filter((event) => !replayed.has(event.id));
      queue.push(...missed, ...live);
    }
  })();

  const finish = async (): Promise<IteratorResult<Event>> => {
    closed = true;
    wake?.();
    await ready.catch(() => undefined);
    await subscription?.close();
    return { done: true, value: undefined };
  };

  const iterator: AsyncIterableIterator<Event> = {
    async next() {
      try {
        await ready;
      } catch (error) {
        await finish();
        throw createError('SUBGRAPH_UNAVAILABLE', `The event stream could not start (event bus unavailable: ${(error as Error).message}); retry with your last cursor.`);
      }
      for (;;) {
        if (closed) return { done: true, value: undefined };
        if (overflow) {
          await finish();
          throw createError('SUBSCRIBER_TOO_SLOW', `Subscriber fell more than ${maxBuffered} events behind; resubscribe with your last cursor.`);
        }
        if (interrupted && queue.length === 0) {
          await finish();
          throw createError('SUBGRAPH_UNAVAILABLE', 'The event stream was interrupted (event bus unavailable); resubscribe with your last cursor.');
        }
        const value = queue.shift();
        if (value) return { done: false, value };
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    },
    return: finish,
    async throw(error?: unknown) {
      await finish();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

export interface EventReadCacheOptions {
  /** Reads kept (oldest dropped first); a few times the events delivered at once is enough. */
  maxEntries?: number;
}

/**
 * One read per event, shared by every subscription that resolves that event: a subgraph with
 * S subscriptions streaming one event reads its data once, not S times. Keyed by event id and
 * what is read, so two events about the same row are read separately (each sees the row as it
 * was when its first subscription resolved it). Only for data that does not depend on the
 * viewer: what a subscriber may see is still decided per subscription (stream filter, field
 * resolvers). A failed read is not kept.
 */
export function createEventReadCache(options: EventReadCacheOptions = {}) {
  const maxEntries = options.maxEntries ?? 1_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new Error(`createEventReadCache: maxEntries must be a positive integer, got ${maxEntries}.`);
  const entries = new Map<string, Promise<unknown>>();
  return {
    read<T>(eventId: string, key: string, load: () => Promise<T>): Promise<T> {
      const cacheKey = `${eventId}\u0000${key}`;
      const known = entries.get(cacheKey);
      if (known) return known as Promise<T>;
      const loading = load();
      entries.set(cacheKey, loading);
      loading.catch(() => {
        if (entries.get(cacheKey) === loading) entries.delete(cacheKey);
      });
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
      return loading;
    },
    size: () => entries.size,
  };
}

export type EventReadCache = ReturnType<typeof createEventReadCache>;
