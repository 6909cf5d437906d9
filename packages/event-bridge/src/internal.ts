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
