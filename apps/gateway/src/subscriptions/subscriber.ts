import type { ExecutionResult, GraphQLError } from 'graphql';

/**
 * Where a transport that can write at once takes results (WebSocket): each result is written
 * when it is pushed, serialized once per shared stream rather than once per client, and only
 * the terminal error goes through the iterator. `pending` is what the client has not taken yet.
 */
export interface SubscriberSink {
  /** The result as UTF-8 JSON, the same buffer for every subscriber of the stream: not to be changed. */
  write(serializedResult: Buffer): void;
  pending(): number;
}

/**
 * One client's view of a (possibly shared) subscription: a bounded queue of results. When it
 * overflows, or fails, the client gets one error result and the iteration ends: events are
 * never dropped silently.
 */
export function createSubscriber(options: SubscriberOptions): Subscriber {
  return new Subscriber(options);
}

export interface SubscriberOptions {
  maxQueued: number;
  onClose: () => void;
  tooSlowError: () => GraphQLError;
  sink?: SubscriberSink;
}

/**
 * A class, and its own iterator, rather than closures: a gateway holds one per client
 * subscription (10,000s), and methods on the prototype cost nothing per instance.
 */
export class Subscriber implements AsyncIterableIterator<ExecutionResult> {
  /** Results not taken yet (HTTP streams; a WebSocket subscriber writes them at once). */
  private queue: ExecutionResult[] | undefined;
  private isEnded = false;
  private completing = false;
  private failure: GraphQLError | undefined;
  /** The iterator's pending `next()`, while there is nothing to take. */
  private waiting: ((result: IteratorResult<ExecutionResult>) => void) | undefined;

  constructor(private readonly options: SubscriberOptions) {}

  /** What the transport iterates: results (HTTP) or only the terminal error (with a sink), then the end. */
  get iterator(): AsyncIterableIterator<ExecutionResult> {
    return this;
  }

  get ended(): boolean {
    return this.isEnded;
  }

  private end() {
    if (this.isEnded) return;
    this.isEnded = true;
    this.wake();
    this.options.onClose();
  }

  /** What `next()` answers now, or undefined when it has to wait. */
  private take(): IteratorResult<ExecutionResult> | undefined {
    if (this.failure) {
      const error = this.failure;
      this.failure = undefined;
      this.end();
      return { done: false, value: { errors: [error] } };
    }
    const value = this.queue?.shift();
    if (value) return { done: false, value };
    if (this.completing) this.end();
    if (this.isEnded) return { done: true, value: undefined };
    return undefined;
  }

  /** Answers a waiting `next()` if there is something to answer. */
  private wake() {
    const waiting = this.waiting;
    if (!waiting) return;
    this.waiting = undefined;
    const ready = this.take();
    if (ready) waiting(ready);
    else this.waiting ??= waiting;
  }

  /**
   * Not an async function: a subscription spends its life waiting here, and a suspended async
   * function keeps its frame, promise and closure context per subscription; a pending `next()`
   * is one promise and its resolver.
   */
  next(): Promise<IteratorResult<ExecutionResult>> {
    const ready = this.take();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    this.end();
    return { done: true, value: undefined };
  }

  async throw(error?: unknown): Promise<IteratorResult<ExecutionResult>> {
    this.end();
    throw error;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ExecutionResult> {
    return this;
  }

  /**
   * `serialized` returns the result's JSON (UTF-8), computed once for every subscriber of the
   * stream. `result` may be a function: an event relayed as JSON from another gateway worker is
   * parsed only if a subscriber without a sink (HTTP) needs the object.
   */
  push(result: ExecutionResult | (() => ExecutionResult), serialized: () => Buffer = () => Buffer.from(JSON.stringify(typeof result === 'function' ? result() : result))) {
    if (this.isEnded || this.failure || this.completing) return;
    const { sink, maxQueued } = this.options;
    if (sink) {
      if (sink.pending() >= maxQueued) {
        this.failure = this.options.tooSlowError();
        this.wake();
      } else {
        sink.write(serialized());
      }
      return;
    }
    const queue = (this.queue ??= []);
    if (queue.length >= maxQueued) {
      // The client is not reading: tell it, rather than dropping events it would never know about.
      queue.length = 0;
      this.failure = this.options.tooSlowError();
    } else {
      queue.push(typeof result === 'function' ? result() : result);
    }
    this.wake();
  }

  /** Ends the subscription with one error result (subgraph gone, token expired...), after nothing else. */
  fail(error: GraphQLError) {
    if (this.isEnded || this.failure) return;
    if (this.queue) this.queue.length = 0;
    this.failure = error;
    this.wake();
  }

  /** Ends the subscription normally once the queued results are delivered. */
  complete() {
    this.completing = true;
    this.wake();
  }
}
