import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { RetryOptions } from './eventBus';

/** FNV-1a (32 bit): stable across processes and Node versions, unlike anything built on object identity. */
export function hashString(value: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < value.length; index++) {
    hash ^= value.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export function partitionOf(aggregateId: string, partitions: number): number {
  return hashString(aggregateId) % partitions;
}

export interface ResolvedRetry {
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export function resolveRetry(...layers: (RetryOptions | undefined)[]): ResolvedRetry {
  const merged = Object.assign({}, ...layers.filter(Boolean)) as RetryOptions;
  const resolved = {
    maxAttempts: merged.maxAttempts ?? 5,
    initialDelayMs: merged.initialDelayMs ?? 200,
    maxDelayMs: merged.maxDelayMs ?? 10_000,
  };
  if (!Number.isInteger(resolved.maxAttempts) || resolved.maxAttempts < 1) {
    throw new Error(`retry.maxAttempts must be a positive integer, got ${resolved.maxAttempts}`);
  }
  return resolved;
}

/** Delay before attempt `attempt + 1`, with +-20% jitter so failing members do not retry in lockstep. */
export function backoffDelay(retry: ResolvedRetry, attempt: number): number {
  const base = Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** (attempt - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** Resolves after `ms`, or early (without error) when the signal aborts. Never keeps the process alive past abort. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export function defaultConsumerName(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Runs a JSON round trip so the in-memory bus hands out exactly what Redis would (no shared references, no Dates). */
export function jsonCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Runs tasks one after the other (per-listener ordering). Tasks must handle their own errors. */
export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();
  push(task: () => Promise<void>): void {
    this.tail = this.tail.then(task).catch(() => undefined);
  }
  idle(): Promise<void> {
    return this.tail;
  }
}

/** A wake-up call for a loop that waits: `wait` resolves on `wake`, on abort or after the timeout. */
export class Waker {
  private resolveWait: (() => void) | undefined;
  // A wake-up that arrives while nobody waits is kept, so it is never lost between two waits.
  private woken = false;
  wake(): void {
    if (this.resolveWait) this.resolveWait();
    else this.woken = true;
  }
  async wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return;
    }
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    this.resolveWait = () => controller.abort();
    try {
      await sleep(ms, controller.signal);
    } finally {
      this.resolveWait = undefined;
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

/** What `deliverBatch` needs from a bus: how to run, acknowledge, retry and dead-letter items. */
export interface BatchDelivery<T> {
  readonly maxAttempts: number;
  /** Runs the handler on the items, in order; throws when it failed. */
  handle(items: readonly T[], attempt: number): Promise<void>;
  /** The handler resolved for these items (acknowledge them). */
  done(items: readonly T[]): void;
  /** A single item failed `maxAttempts` times. */
  deadLetter(item: T, error: unknown, attempts: number): Promise<void>;
  /** A single item failed and will be retried: wait the backoff; false = stop now (the item stays pending). */
  retry(item: T, attempt: number, error: unknown): Promise<boolean>;
  /** A batch of several items failed and is split in two halves. */
  split(items: readonly T[], error: unknown): void;
  /** False = stop before the next try (closing, partition lost). */
  canContinue(): boolean;
}

/**
 * Delivers consecutive items of one partition as one batch. On failure a batch of several items is
 * split in halves, handled in order (left, then right), recursively: a poison item ends up alone and
 * goes through the usual retry/dead-letter policy while every other item is handled, in order. A
 * single item behaves exactly like `subscribe` (attempts with backoff, then dead letter).
 * Returns how many items from the start are finished (handled or dead-lettered): fewer than all
 * only when it stopped early; the rest stays pending.
 */
export async function deliverBatch<T>(items: readonly T[], delivery: BatchDelivery<T>): Promise<number> {
  if (items.length === 0) return 0;
  for (let attempt = 1; ; attempt++) {
    if (!delivery.canContinue()) return 0;
    let failure: unknown;
    try {
      await delivery.handle(items, attempt);
    } catch (error) {
      failure = error ?? new Error('handler failed');
    }
    if (failure === undefined) {
      delivery.done(items);
      return items.length;
    }
    if (items.length > 1) {
      delivery.split(items, failure);
      const middle = Math.ceil(items.length / 2);
      const left = await deliverBatch(items.slice(0, middle), delivery);
      if (left < middle) return left;
      return middle + (await deliverBatch(items.slice(middle), delivery));
    }
    if (attempt >= delivery.maxAttempts) {
      await delivery.deadLetter(items[0]!, failure, attempt);
      return 1;
    }
    if (!(await delivery.retry(items[0]!, attempt, failure))) return 0;
  }
}

export function resolveMaxBatchSize(value: number | undefined): number {
  const size = value ?? 100;
  if (!Number.isInteger(size) || size < 1) throw new Error(`maxBatchSize must be a positive integer, got ${size}`);
  return size;
}
