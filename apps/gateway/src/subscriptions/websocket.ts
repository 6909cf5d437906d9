import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import { print, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { ApolloServer } from '@apollo/server';
import { createError } from '@meridian/errors';
import { isSignedIn, type TokenVerifier, type Viewer } from '@meridian/tokens';
import { attachWebSocketServer, type Logger } from '@meridian/service-kit';
import type { GatewayContext } from '../server';
import type { SubscriptionHub } from './hub';
import type { SubscriptionPlanner } from './planner';

export interface WebSocketLimits {
  /** Time a client has to send connection_init (then 4408). */
  connectionInitTimeoutMs: number;
  /** Interval of WebSocket pings; a peer that stops answering is dropped. */
  keepAliveMs: number;
  maxSubscriptionsPerConnection: number;
  /** Across all connections of one user on this gateway. */
  maxSubscriptionsPerUser: number;
}

export const DEFAULT_WEBSOCKET_LIMITS: WebSocketLimits = {
  connectionInitTimeoutMs: 5_000,
  keepAliveMs: 12_000,
  maxSubscriptionsPerConnection: 50,
  maxSubscriptionsPerUser: 200,
};

interface ConnectionState {
  viewer: Viewer;
  authorization: string | undefined;
  active: number;
}

type WsContext = GatewayContext & { connection: ConnectionState };

/**
 * GraphQL over WebSocket (graphql-transport-ws) on the gateway's /graphql: subscriptions are
 * planned and multiplexed by the hub; queries and mutations go through Apollo Server as over
 * HTTP. The bearer token comes in `connectionParams.authorization`; a bad one closes with 4403.
 */
export function serveGraphQLOverWebSocket(deps: {
  httpServer: http.Server;
  planner: () => SubscriptionPlanner;
  hub: () => SubscriptionHub;
  apollo: ApolloServer<GatewayContext>;
  verifier: TokenVerifier;
  logger: Logger;
  limits?: Partial<WebSocketLimits>;
}) {
  const limits = { ...DEFAULT_WEBSOCKET_LIMITS, ...deps.limits };
  const wsServer = attachWebSocketServer(deps.httpServer, '/graphql');
  const perUser = new Map<string, number>();

  const disposable = useServer<{ authorization?: unknown }, { connection: ConnectionState }>(
    {
      schema: () => deps.planner().schema,
      connectionInitWaitTimeout: limits.connectionInitTimeoutMs,
      onConnect: async (ctx) => {
        const raw = ctx.connectionParams?.authorization;
        const authorization = typeof raw === 'string' && raw !== '' ? raw : undefined;
        try {
          const viewer = await deps.verifier.viewerFromAuthorization(authorization);
          ctx.extra.connection = { viewer, authorization, active: 0 };
          return true;
        } catch {
          return false; // graphql-ws closes with 4403 Forbidden
        }
      },
      context: (ctx): WsContext => {
        // onConnect ran before any operation, so the connection state exists.
        const connection = ctx.extra.connection as ConnectionState;
        return {
          viewer: connection.viewer,
          requestId: randomUUID(),
          authorization: connection.authorization,
          client: { ip: ctx.extra.request.socket.remoteAddress, userAgent: ctx.extra.request.headers['user-agent'] },
          connection,
        };
      },
      execute: async (args: ExecutionArgs): Promise<ExecutionResult> => {
        const contextValue = args.contextValue as WsContext;
        const response = await deps.apollo.executeOperation(
          { query: print(args.document), variables: args.variableValues ?? {}, operationName: args.operationName ?? undefined },
          { contextValue },
        );
        if (response.body.kind !== 'single') return { errors: [createError('BAD_USER_INPUT', 'Incremental delivery is not supported over WebSocket.')] };
        return response.body.singleResult as ExecutionResult;
      },
      subscribe: async (args: ExecutionArgs) => {
        const context = args.contextValue as WsContext;
        const { connection, viewer } = context;
        if (connection.active >= limits.maxSubscriptionsPerConnection) {
          return { errors: [createError('RATE_LIMITED', `At most ${limits.maxSubscriptionsPerConnection} subscriptions per connection.`)] };
        }
        const userKey = isSignedIn(viewer) ? viewer.userId : `anonymous:${context.client.ip ?? ''}`;
        const userActive = perUser.get(userKey) ?? 0;
        if (userActive >= limits.maxSubscriptionsPerUser) {
          return { errors: [createError('RATE_LIMITED', `At most ${limits.maxSubscriptionsPerUser} subscriptions per user.`)] };
        }
        let plan;
        try {
          plan = deps.planner().plan(args.document, args.operationName ?? undefined);
        } catch (error) {
          return { errors: [createError('BAD_USER_INPUT', (error as Error).message)] };
        }
        connection.active += 1;
        perUser.set(userKey, userActive + 1);
        const subscriber = deps.hub().subscribe({
          plan,
          variables: (args.variableValues ?? {}) as Record<string, unknown>,
          context: context as unknown as Record<string, unknown>,
          authorization: connection.authorization,
          scope: isSignedIn(viewer) ? `${viewer.userId}|${[...viewer.roles].sort().join(',')}` : 'anonymous',
        });
        // Token expiry ends the subscription with an error, whatever the subgraph does.
        const expiry = isSignedIn(viewer)
          ? setTimeout(() => subscriber.fail(createError('UNAUTHENTICATED', 'Access token expired; reconnect with a fresh token and your last cursor.')), Math.max(0, viewer.expiresAt * 1000 - Date.now()))
          : undefined;
        expiry?.unref();
        const iterator = subscriber.iterator;
        const release = () => {
          clearTimeout(expiry);
          connection.active -= 1;
          const remaining = (perUser.get(userKey) ?? 1) - 1;
          if (remaining <= 0) perUser.delete(userKey);
          else perUser.set(userKey, remaining);
        };
        let released = false;
        const once = () => {
          if (!released) {
            released = true;
            release();
          }
        };
        return {
          [Symbol.asyncIterator]() {
            return this;
          },
          async next() {
            const result = await iterator.next();
            if (result.done) once();
            return result;
          },
          async return() {
            once();
            return iterator.return!();
          },
          async throw(error?: unknown) {
            once();
            return iterator.throw!(error);
          },
        } satisfies AsyncIterableIterator<ExecutionResult>;
      },
      onError: (_ctx, _id, _payload, errors) => {
        deps.logger.debug({ errors: errors.map((error) => error.message) }, 'websocket operation rejected');
      },
    },
    wsServer,
    limits.keepAliveMs,
  );

  return {
    wsServer,
    /** Closes every socket with 1001 (going away) or the given code and reason. */
    async close(code = 1001, reason = 'Server shutting down') {
      for (const client of wsServer.clients) client.close(code, reason);
      await disposable.dispose();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    },
    openConnections: () => wsServer.clients.size,
  };
}
