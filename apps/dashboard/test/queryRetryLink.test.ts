import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { createQueryRetryLink, isTransientFailure } from '../src/lib';

/** A real HTTP endpoint that fails the first `failures` requests the way the gateway does. */
async function startFlakyServer(failures: number, failure: 'internal' | 'forbidden' | 'http-503') {
  let requests = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests += 1;
      res.setHeader('content-type', 'application/json');
      if (requests <= failures) {
        if (failure === 'http-503') {
          res.writeHead(503);
          res.end(JSON.stringify({ errors: [{ message: 'unavailable' }] }));
          return;
        }
        const code = failure === 'internal' ? 'INTERNAL_SERVER_ERROR' : 'FORBIDDEN';
        res.end(JSON.stringify({ data: null, errors: [{ message: code, extensions: { code } }] }));
        return;
      }
      res.end(JSON.stringify({ data: { answer: 42 } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    requests: () => requests,
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}

function clientFor(url: string) {
  return new ApolloClient({ link: ApolloLink.from([createQueryRetryLink({ delayMs: 10 }), new HttpLink({ uri: url })]), cache: new InMemoryCache() });
}

const QUERY = gql`
  query Answer {
    answer
  }
`;
const MUTATION = gql`
  mutation Answer {
    answer
  }
`;

describe('query retry link', () => {
  it('sends a query again after a transient INTERNAL_SERVER_ERROR and returns the good answer', async () => {
    const server = await startFlakyServer(2, 'internal');
    try {
      const result = await clientFor(server.url).query({ query: QUERY, fetchPolicy: 'network-only' });
      expect(result.data).toEqual({ answer: 42 });
      expect(server.requests()).toBe(3);
    } finally {
      await server.stop();
    }
  });

  it('retries after HTTP 503 too', async () => {
    const server = await startFlakyServer(1, 'http-503');
    try {
      const result = await clientFor(server.url).query({ query: QUERY, fetchPolicy: 'network-only' });
      expect(result.data).toEqual({ answer: 42 });
      expect(server.requests()).toBe(2);
    } finally {
      await server.stop();
    }
  });

  it('gives up after its retries and reports the error', async () => {
    const server = await startFlakyServer(10, 'internal');
    try {
      await expect(clientFor(server.url).query({ query: QUERY, fetchPolicy: 'network-only' })).rejects.toThrow('INTERNAL_SERVER_ERROR');
      expect(server.requests()).toBe(3);
    } finally {
      await server.stop();
    }
  });

  it('does not repeat a refusal (FORBIDDEN) nor any mutation', async () => {
    const forbidden = await startFlakyServer(1, 'forbidden');
    const internal = await startFlakyServer(1, 'internal');
    try {
      await expect(clientFor(forbidden.url).query({ query: QUERY, fetchPolicy: 'network-only' })).rejects.toThrow('FORBIDDEN');
      expect(forbidden.requests()).toBe(1);
      await expect(clientFor(internal.url).mutate({ mutation: MUTATION })).rejects.toThrow('INTERNAL_SERVER_ERROR');
      expect(internal.requests()).toBe(1);
    } finally {
      await forbidden.stop();
      await internal.stop();
    }
  });

  it('classifies failures', () => {
    expect(isTransientFailure({ errors: [{ message: 'x', extensions: { code: 'SUBGRAPH_UNAVAILABLE' } }] })).toBe(true);
    expect(isTransientFailure({ errors: [{ message: 'x', extensions: { code: 'BAD_USER_INPUT' } }] })).toBe(false);
    expect(isTransientFailure({ errors: [] })).toBe(false);
    expect(isTransientFailure(undefined, new TypeError('fetch failed'))).toBe(true);
    expect(isTransientFailure(undefined, new Error('other'))).toBe(false);
  });
});
