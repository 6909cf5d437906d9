import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { ExecutionResult } from 'graphql';

export interface UpstreamRequest {
  /** Subgraph GraphQL URL (http[s]://...); the WebSocket URL is derived from it. */
  url: string;
  query: string;
  variables: Record<string, unknown>;
  /** The end user's Authorization header, sent as connectionParams (the subgraph verifies it). */
  authorization: string | undefined;
  /** W3C traceparent sent in the subscribe message's `extensions` (a socket carries many operations). */
  traceparent?: string;
}

/**
 * graphql-ws clients to subgraphs, one per (subgraph, authorization): subscriptions of the same
 * user to the same subgraph share one socket. No automatic retry: when a subgraph goes away the
 * affected subscriptions end with an error (clients resubscribe with their cursor).
 */
export function createUpstreamPool() {
  const clients = new Map<string, Client>();

  function clientFor(url: string, authorization: string | undefined): Client {
    const key = `${url}\n${authorization ?? ''}`;
    let client = clients.get(key);
    if (!client) {
      client = createClient({
        url: url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        connectionParams: authorization ? { authorization } : {},
        lazy: true,
        lazyCloseTimeout: 1_000,
        retryAttempts: 0,
        keepAlive: 10_000,
        on: {
          closed: () => {
            if (clients.get(key) === client) clients.delete(key);
          },
        },
      });
      clients.set(key, client);
    }
    return client;
  }

  return {
    subscribe(request: UpstreamRequest): AsyncIterableIterator<ExecutionResult> {
      const iterator = clientFor(request.url, request.authorization).iterate({
        query: request.query,
        variables: request.variables,
        ...(request.traceparent ? { extensions: { traceparent: request.traceparent } } : {}),
      });
      return iterator as AsyncIterableIterator<ExecutionResult>;
    },
    async close() {
      await Promise.all([...clients.values()].map((client) => client.dispose()));
      clients.clear();
    },
    /** Open upstream sockets (for metrics and tests). */
    size: () => clients.size,
  };
}

export type UpstreamPool = ReturnType<typeof createUpstreamPool>;
