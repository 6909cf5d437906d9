import type { EventEnvelope } from './envelope';
import type { EventRegistry } from './registry';

/** Narrows the event union of a bus to the subscribed types. */
export type EventOfType<TEvent extends EventEnvelope, TType extends TEvent['type']> = Extract<TEvent, { type: TType }>;

export interface DeliveryContext {
  readonly group: string;
  /** 1 for the first try, incremented on each retry. */
  readonly attempt: number;
}

export interface RetryOptions {
  /** Attempts before the event goes to the dead letters (default 5). */
  readonly maxAttempts?: number;
  /** Delay before the 2nd attempt, doubled each time (default 200 ms). */
  readonly initialDelayMs?: number;
  /** Cap of the delay (default 10 s). */
  readonly maxDelayMs?: number;
}

export interface SubscribeOptions<TEvent extends EventEnvelope, TType extends TEvent['type']> {
  /** Consumer group: each event is handled by one member of the group; every group gets every event. */
  readonly group: string;
  readonly types: readonly TType[];
  /** Resolve to acknowledge; throw to retry. Must be idempotent (delivery is at least once). */
  readonly handler: (event: EventOfType<TEvent, TType>, context: DeliveryContext) => Promise<void>;
  /** Stable name of this member (defaults to host-pid-random). */
  readonly consumerName?: string;
  readonly retry?: RetryOptions;
  /**
   * Where a group that does not exist yet starts: 'earliest' (default) handles every retained
   * event, so a service deployed after its producers misses nothing; 'latest' only new ones.
   */
  readonly startFrom?: 'earliest' | 'latest';
}

export interface BatchDeliveryContext extends DeliveryContext {
  /**
   * Tries of this batch: 1 for a first try. After a failure a batch of several events is split in
   * two halves, each starting again at 1; a single event is retried up to `retry.maxAttempts`.
   */
  readonly attempt: number;
  /** Ordering partition the batch comes from (every event of a batch shares it). */
  readonly partition: number;
}

export interface SubscribeBatchOptions<TEvent extends EventEnvelope, TType extends TEvent['type']> {
  /** Consumer group: same meaning as in `subscribe` (members of a group may mix `subscribe` and `subscribeBatch`). */
  readonly group: string;
  readonly types: readonly TType[];
  /** Most events per handler call (default 100). */
  readonly maxBatchSize?: number;
  /**
   * Receives consecutive events of ONE partition, in order (never empty). Resolve to acknowledge
   * all of them; throw to retry: the batch is split in halves until the failing event is alone,
   * which is then retried with backoff and dead-lettered after `retry.maxAttempts` (the others
   * are handled). Must be idempotent (delivery is at least once): see `handleBatchOnce`.
   */
  readonly handler: (events: EventOfType<TEvent, TType>[], context: BatchDeliveryContext) => Promise<void>;
  readonly consumerName?: string;
  readonly retry?: RetryOptions;
  readonly startFrom?: 'earliest' | 'latest';
}

export interface ListenOptions<TEvent extends EventEnvelope, TType extends TEvent['type']> {
  readonly types: readonly TType[];
  /** Errors are logged, not retried: listeners are for live notifications. */
  readonly handler: (event: EventOfType<TEvent, TType>) => void | Promise<void>;
  /**
   * Called when the bus cannot deliver for a while (e.g. Redis went away). The listener stays
   * registered and resumes from where it was once the bus is back; a caller that must not look
   * hung (a client subscription) ends here and lets its client resume from its cursor.
   */
  readonly onInterrupted?: (error: Error) => void;
}

export interface ReplayOptions<TEvent extends EventEnvelope, TType extends TEvent['type']> {
  readonly types: readonly TType[];
  /** Exclusive: only events whose id sorts after this envelope id. */
  readonly fromId?: string;
  /** Called in id order; a throw stops the replay and rejects it. */
  readonly handler: (event: EventOfType<TEvent, TType>) => void | Promise<void>;
}

export interface ReplayResult {
  readonly count: number;
  /** Id of the last event handled (pass as `fromId` to continue), undefined if none. */
  readonly lastId: string | undefined;
}

export interface Subscription {
  /** Stops this member/listener; in-flight handler finishes first, unacked events stay pending. */
  close(): Promise<void>;
}

export interface DeadLetter {
  readonly group: string;
  /** The event as received (raw when it failed validation). */
  readonly event: unknown;
  readonly error: string;
  readonly attempts: number;
  readonly failedAt: string;
}

/** Pino-compatible (details first), so a service logger can be passed as is. */
export interface EventBusLogger {
  warn(details: Record<string, unknown>, message: string): void;
  error(details: Record<string, unknown>, message: string): void;
}

export interface EventBusOptions<TEvent extends EventEnvelope> {
  readonly registry: EventRegistry<TEvent>;
  /**
   * Ordering partitions per source: events are partitioned by hash(aggregateId); each partition
   * is handled by one member of a group at a time. Must be the same in every process (default 8).
   */
  readonly partitions?: number;
  /** Default retry policy of subscriptions. */
  readonly retry?: RetryOptions;
  readonly logger?: EventBusLogger;
}

export interface EventBus<TEvent extends EventEnvelope = EventEnvelope> {
  /** Validates every envelope, then appends them. Resolves once they are durable on the bus (not handled). */
  publish(events: TEvent | readonly TEvent[]): Promise<void>;
  /** Resolves once the group is registered: events published afterwards will reach it. */
  subscribe<TType extends TEvent['type']>(options: SubscribeOptions<TEvent, TType>): Promise<Subscription>;
  /** Broadcast to every listener in every process, from the moment it resolves. */
  listen<TType extends TEvent['type']>(options: ListenOptions<TEvent, TType>): Promise<Subscription>;
  /** Reads the retained events of the given types from the start (or after `fromId`). */
  replay<TType extends TEvent['type']>(options: ReplayOptions<TEvent, TType>): Promise<ReplayResult>;
  /** Events a group gave up on (or could not parse), oldest first. */
  readDeadLetters(group: string): Promise<DeadLetter[]>;
  /** Stops every loop and releases connections; pending events stay on the bus. */
  close(): Promise<void>;
}

/**
 * A bus that can also deliver in batches (both built-in buses). Kept apart from `EventBus` so that
 * existing implementations and wrappers of `EventBus` stay valid.
 */
export interface BatchEventBus<TEvent extends EventEnvelope = EventEnvelope> extends EventBus<TEvent> {
  /**
   * Like `subscribe`, but the handler gets up to `maxBatchSize` consecutive events of one partition
   * at once (same guarantees: competing members, per-aggregate order, at least once, retries, dead letters).
   */
  subscribeBatch<TType extends TEvent['type']>(options: SubscribeBatchOptions<TEvent, TType>): Promise<Subscription>;
}

export const consoleLogger: EventBusLogger = {
  warn: (details, message) => console.warn(`[event-bridge] ${message}`, details),
  error: (details, message) => console.error(`[event-bridge] ${message}`, details),
};
