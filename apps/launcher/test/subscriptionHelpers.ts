import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { graphqlOk } from '@meridian/testing';

export interface SignedUp {
  accessToken: string;
  userId: string;
  email: string;
}

export async function signUp(gatewayUrl: string, name: string): Promise<SignedUp> {
  const email = `${name.toLowerCase()}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  const data = await graphqlOk(
    gatewayUrl,
    `mutation($input: SignUpInput!) { signUp(input: $input) { accessToken user { id } } }`,
    { variables: { input: { email, password: 'correct horse battery staple', displayName: name } } },
  );
  return { accessToken: data.signUp.accessToken, userId: data.signUp.user.id, email };
}

export function wsClient(gatewayUrl: string, token?: string, extra: Partial<Parameters<typeof createClient>[0]> = {}): Client {
  return createClient({
    url: gatewayUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: true,
    ...extra,
  });
}

/** Collects what a subscription yields; `next(n)` waits (with a deadline) until n results arrived. */
export function collect<T = any>(iterable: AsyncIterable<unknown>) {
  const received: T[] = [];
  let failure: unknown;
  let ended = false;
  const waiters = new Set<() => void>();
  const iterator = iterable[Symbol.asyncIterator]() as AsyncIterator<T>;
  (async () => {
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done) break;
        received.push(next.value);
        for (const wake of waiters) wake();
      }
    } catch (error) {
      failure = error;
    } finally {
      ended = true;
      for (const wake of waiters) wake();
    }
  })();
  return {
    received,
    get ended() {
      return ended;
    },
    get failure() {
      return failure;
    },
    async waitFor(count: number, timeoutMs = 10_000): Promise<T[]> {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (ended) throw new Error(`Stream ended after ${received.length} of ${count} results: ${JSON.stringify(failure ?? received)}`);
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new Error(`Timed out with ${received.length} of ${count} results: ${JSON.stringify(received)}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, remaining);
          const wake = () => {
            clearTimeout(timer);
            waiters.delete(wake);
            resolve();
          };
          waiters.add(wake);
        });
      }
      return received.slice(0, count);
    },
    /** Waits (with a deadline) for a result matching `predicate`, and returns it. */
    async waitForMatch(predicate: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = received.find(predicate);
        if (found) return found;
        if (ended) throw new Error(`Stream ended without a match: ${JSON.stringify(failure ?? received)}`);
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new Error(`Timed out without a match: ${JSON.stringify(received)}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, remaining);
          const wake = () => {
            clearTimeout(timer);
            waiters.delete(wake);
            resolve();
          };
          waiters.add(wake);
        });
      }
    },
    async waitForEnd(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!ended) {
        if (Date.now() > deadline) throw new Error('Stream did not end in time');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    stop: () => iterator.return?.(),
  };
}

export const TASK_CHANGED = /* GraphQL */ `
  subscription TaskChanged($after: String) {
    taskChanged(after: $after) { cursor kind task { title assignee { displayName } } actor { displayName } }
  }
`;

/**
 * graphql-ws has no "subscription started" message, so a test cannot know when the subgraph
 * listens. It makes probe changes until one arrives: from then on the stream is live.
 */
export async function primeStreams(streams: { received: unknown[] }[], probe: () => Promise<unknown>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (streams.some((stream) => stream.received.length === 0)) {
    if (Date.now() > deadline) throw new Error('Subscriptions did not become live in time');
    await probe();
    const waitUntil = Date.now() + 300;
    while (Date.now() < waitUntil && streams.some((stream) => stream.received.length === 0)) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

export const titleIs = (title: string) => (event: any) => event?.data?.taskChanged?.task?.title === title;
