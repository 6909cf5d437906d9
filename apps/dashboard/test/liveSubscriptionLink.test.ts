import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloClient, ApolloLink, InMemoryCache, gql } from '@apollo/client';
import { buildSchema, GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import WebSocket, { WebSocketServer } from 'ws';
import { createMemoryTokenStore, LiveSubscriptionLink, SessionManager } from '../src/lib';

/**
 * The link against a real graphql-ws server whose streams behave like the gateway's: every
 * event has a cursor, `after` replays what came after it, a stream can end from the server
 * side, a token is refused at connection_init (4403) once it is revoked, and a subscription
 * ends with UNAUTHENTICATED when its token expires.
 */
async function startStreamServer() {
  const events = Array.from({ length: 50 }, (_, index) => ({ cursor: `c${String(index + 1).padStart(3, '0')}`, n: index + 1 }));
  const schema = buildSchema(`type Query { ok: Boolean } type Event { cursor: String! n: Int! } type Subscription { ticks(after: String): Event! }`);
  const subscribes: { after: string | null; token: string }[] = [];
  const revoked = new Set<string>();
  /** Per subscription: how many events to send before ending it, and how. */
  const script: { events: number; end: 'complete' | 'expired' }[] = [];

  const server = http.createServer();
  const wss = new WebSocketServer({ server, path: '/graphql' });
  useServer(
    {
      schema,
      onConnect: (ctx) => {
        const token = String(ctx.connectionParams?.authorization ?? '').replace('Bearer ', '');
        if (revoked.has(token)) return false; // 4403
        (ctx.extra as { token?: string }).token = token;
        return true;
      },
      subscribe: async (args) => {
        const after = (args.variableValues?.after as string | undefined) ?? null;
        const token = (args.contextValue as { extra: { token: string } }).extra.token;
        subscribes.push({ after, token });
        const plan = script.shift() ?? { events: 1_000, end: 'complete' as const };
        const start = after ? events.findIndex((event) => event.cursor === after) + 1 : 0;
        return (async function* () {
          for (const event of events.slice(start, start + plan.events)) yield { data: { ticks: event } };
          if (plan.end === 'expired') {
            yield { errors: [new GraphQLError('Access token expired', { extensions: { code: 'UNAUTHENTICATED' } })] };
          }
        })();
      },
      context: (ctx) => ({ extra: ctx.extra }),
    },
    wss,
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    subscribes,
    revoked,
    script,
    stop: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const TICKS = gql`
  subscription Ticks($after: String) {
    ticks(after: $after) {
      cursor
      n
    }
  }
`;

function sessionWithTokens() {
  let generation = 1;
  const pair = () => ({ accessToken: `a${generation}`, refreshToken: `r${generation}`, expiresAt: new Date(Date.now() + 3_600_000).toISOString(), userId: 'u1' });
  const session = new SessionManager({
    store: createMemoryTokenStore(pair()),
    refresh: async () => {
      generation += 1;
      return pair();
    },
  });
  return session;
}

async function collectTicks(url: string, session: SessionManager, until: number) {
  const link = new LiveSubscriptionLink({ url, session, webSocketImpl: WebSocket, maxRetryDelayMs: 50 });
  const apollo = new ApolloClient({ link: ApolloLink.from([link]), cache: new InMemoryCache() });
  const received: number[] = [];
  const errors: unknown[] = [];
  await new Promise<void>((resolve, reject) => {
    const subscription = apollo.subscribe({ query: TICKS, fetchPolicy: 'no-cache' }).subscribe({
      next: (result) => {
        if (result.error) errors.push(result.error);
        const n = (result.data as { ticks?: { n: number } } | undefined)?.ticks?.n;
        if (n !== undefined) received.push(n);
        if (received.length >= until) {
          subscription.unsubscribe();
          resolve();
        }
      },
      error: reject,
    });
  });
  link.closeSocket();
  apollo.stop();
  return { received, errors, link };
}

describe('LiveSubscriptionLink', () => {
  let server: Awaited<ReturnType<typeof startStreamServer>>;
  beforeEach(async () => {
    server = await startStreamServer();
  });
  afterEach(async () => {
    await server.stop();
  });

  it('resumes after the last cursor when the server ends a stream: no gap, no duplicate', async () => {
    server.script.push({ events: 3, end: 'complete' }, { events: 4, end: 'complete' });
    const { received, errors } = await collectTicks(server.url, sessionWithTokens(), 10);
    expect(received).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(errors).toEqual([]);
    expect(server.subscribes.map((entry) => entry.after)).toEqual([null, 'c003', 'c007']);
  });

  it('on token expiry refreshes once, reconnects with the new token and resumes after its cursor', async () => {
    server.script.push({ events: 5, end: 'expired' });
    const session = sessionWithTokens();
    const { received, errors, link } = await collectTicks(server.url, session, 8);
    expect(received).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(errors).toEqual([]); // the person never sees the expiry
    expect(session.refreshCount).toBe(1);
    expect(link.socketsOpened).toBe(2);
    expect(server.subscribes).toEqual([
      { after: null, token: 'a1' },
      { after: 'c005', token: 'a2' },
    ]);
  });

  it('when the socket is refused with 4403 (stale token), refreshes and connects again', async () => {
    server.revoked.add('a1');
    const session = sessionWithTokens();
    const { received } = await collectTicks(server.url, session, 2);
    expect(received).toEqual([1, 2]);
    expect(session.refreshCount).toBe(1);
    expect(server.subscribes).toEqual([{ after: null, token: 'a2' }]);
  });
});
