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
export function createSubscriber(options: { maxQueued: number; onClose: () => void; tooSlowError: () => GraphQLError; sink?: SubscriberSink }) {
  const { sink } = options;
  const queue: ExecutionResult[] = [];
  let ended = false;
  let completing = false;
  let failure: GraphQLError | undefined;
  let wake: (() => void) | undefined;

  function end() {
    if (ended) return;
    ended = true;
    wake?.();
    options.onClose();
  }

  const iterator: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      for (;;) {
        if (failure) {
          const error = failure;
          failure = undefined;
          end();
          return { done: false, value: { errors: [error] } };
        }
        const value = queue.shift();
        if (value) return { done: false, value };
        if (completing) end();
        if (ended) return { done: true, value: undefined };
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    },
    async return() {
      end();
      return { done: true, value: undefined };
    },
    async throw(error?: unknown) {
      end();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };

  return {
    iterator,
    /**
     * `serialized` returns the result's JSON (UTF-8), computed once for every subscriber of the
     * stream. `result` may be a function: an event relayed as JSON from another gateway worker is
     * parsed only if a subscriber without a sink (HTTP) needs the object.
     */
    push(result: ExecutionResult | (() => ExecutionResult), serialized: () => Buffer = () => Buffer.from(JSON.stringify(typeof result === 'function' ? result() : result))) {
      if (ended || failure || completing) return;
      if (sink) {
        if (sink.pending() >= options.maxQueued) {
          failure = options.tooSlowError();
          wake?.();
        } else {
          sink.write(serialized());
        }
        return;
      }
      if (queue.length >= options.maxQueued) {
        // The client is not reading: tell it, rather than dropping events it would never know about.
        queue.length = 0;
        failure = options.tooSlowError();
      } else {
        queue.push(typeof result === 'function' ? result() : result);
      }
      wake?.();
    },
    /** Ends the subscription with one error result (subgraph gone, token expired...), after nothing else. */
    fail(error: GraphQLError) {
      if (ended || failure) return;
      queue.length = 0;
      failure = error;
      wake?.();
    },
    /** Ends the subscription normally once the queued results are delivered. */
    complete() {
      completing = true;
      wake?.();
    },
    get ended() {
      return ended;
    },
  };
}

export type Subscriber = ReturnType<typeof createSubscriber>;
