import type http from 'node:http';
import type { Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { parse, print, validate, type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLError, type GraphQLSchema } from 'graphql';
import type { WebSocket } from 'ws';
import type { ApolloServer } from '@apollo/server';
import { createError } from '@meridian/errors';
import { contextOfWebSocketOperation, getTracer, inSpan, ROOT_CONTEXT, SpanKind, SpanStatusCode, type Context, type Span } from '@meridian/observability';
import type { TokenVerifier, Viewer } from '@meridian/tokens';
import { attachWebSocketServer, operationSpanName, type Logger } from '@meridian/service-kit';
import type { GatewayContext } from '../server';
import type { SubscriptionGate } from './gate';
import type { SubscriptionPlanner } from './planner';
import type { SubscriberSink } from './subscriber';
import { describeClient, serveGraphQLWs, type SocketExtra } from './socketServer';

export interface WebSocketLimits {
  /** Time a client has to send connection_init (then 4408). */
  connectionInitTimeoutMs: number;
  /** Interval of WebSocket pings; a peer that stops answering is dropped. */
  keepAliveMs: number;
}

export const DEFAULT_WEBSOCKET_LIMITS: WebSocketLimits = {
  connectionInitTimeoutMs: 5_000,
  keepAliveMs: 12_000,
};

interface ConnectionState {
  viewer: Viewer;
  authorization: string | undefined;
  active: number;
  socket: WebSocket;
}

type WsContext = GatewayContext & {
  connection: ConnectionState;
  operationId: string;
  /** Parent of the operation's span: the client's `extensions.traceparent` (see contextOfWebSocketOperation). */
  trace: Context;
};

/**
 * Runs `run` in a SERVER span of the gateway for one operation received over WebSocket, as the
 * HTTP path does per request (the observability plugin renames it `<type> <operation>` once
 * Apollo has resolved the operation). Subgraph fetches started inside carry its traceparent.
 */
function inOperationSpan<T>(name: string, context: WsContext, run: (span: Span) => Promise<T>): Promise<T> {
  const attributes = { 'meridian.service': 'gateway', 'meridian.request_id': context.requestId, 'network.protocol.name': 'websocket' };
  return inSpan(getTracer('gateway'), name, { kind: SpanKind.SERVER, attributes, parent: context.trace }, run);
}

const MAX_CACHED_DOCUMENTS = 1_000;

/**
 * Thousands of clients send the same few operations: each distinct query text is parsed (and
 * validated, per schema) once, and the document is shared instead of one AST per subscription.
 */
function createDocumentCache() {
  const documents = new Map<string, { text: string; document: DocumentNode }>();
  const validated = new WeakMap<DocumentNode, { schema: GraphQLSchema; errors: readonly GraphQLError[] }>();
  return {
    parse(source: { body: string } | string): DocumentNode {
      const text = typeof source === 'string' ? source : source.body;
      let cached = documents.get(text);
      if (!cached) {
        cached = { text, document: parse(text) };
        if (documents.size >= MAX_CACHED_DOCUMENTS) documents.delete(documents.keys().next().value as string);
        documents.set(text, cached);
      }
      return cached.document;
    },
    /**
     * The cached copy of a query text, when there is one: graphql-ws keeps each subscription's
     * message, and its own copy of the text would cost its length once per subscription.
     */
    intern(text: string): string {
      return documents.get(text)?.text ?? text;
    },
    validate(schema: GraphQLSchema, document: DocumentNode): readonly GraphQLError[] {
      const cached = validated.get(document);
      if (cached?.schema === schema) return cached.errors;
      const errors = validate(schema, document);
      validated.set(document, { schema, errors });
      return errors;
    },
  };
}

/**
 * Writes a subscription's results straight to its socket, in the graphql-transport-ws `next`
 * shape, from JSON serialized once per shared stream; counts writes the kernel has not taken yet.
 *
 * One event is one write per subscriber, thousands per event on one thread, so the text frame is
 * built here in one buffer (prefix with this operation's id, the shared JSON, the closing brace)
 * and written to the TCP socket in one call, instead of `ws.send` copying the message into a
 * string and writing header and payload as two chunks. That is only a plain RFC 6455 frame when
 * no extension was negotiated (our server offers none; permessage-deflate would compress): then
 * `ws` itself writes every frame synchronously to the same socket, so frames never interleave.
 * Otherwise, or if `ws` no longer exposes its socket, it falls back to `ws.send` (ADR 0020).
 */
export function createSocketSink(socket: WebSocket, operationId: string): SubscriberSink {
  return new SocketSink(socket, operationId);
}

/**
 * A sink's write callback. Returned from here, it is an anonymous function: a named one (a class
 * field, a variable) is given its `name` as an own property by the TypeScript loader, ~250 bytes
 * more per subscription.
 */
function writtenCallbackOf(sink: { unflushed: number }): () => void {
  return () => {
    sink.unflushed -= 1;
  };
}

// A class rather than closures: thousands of subscriptions hold one each, and methods on the
// prototype cost nothing per instance (ADR 0020).
class SocketSink implements SubscriberSink {
  /** `{"id":…,"type":"next","payload":` as text (a Buffer per subscription costs ~400 bytes more), and its UTF-8 length. */
  private readonly prefix: string;
  private readonly prefixLength: number;
  private readonly raw: Socket | undefined;
  unflushed = 0;
  /** The write callback, one per sink (not one per write). */
  private readonly written = writtenCallbackOf(this);

  constructor(
    private readonly socket: WebSocket,
    operationId: string,
  ) {
    this.prefix = `{"id":${JSON.stringify(operationId)},"type":"next","payload":`;
    this.prefixLength = Buffer.byteLength(this.prefix);
    const raw = (socket as unknown as { _socket?: Socket })._socket;
    this.raw = raw !== undefined && typeof raw.write === 'function' && socket.extensions === '' ? raw : undefined;
  }

  pending(): number {
    return this.unflushed;
  }

  write(serializedResult: Buffer): void {
    const { socket, prefix, prefixLength, raw } = this;
    if (socket.readyState !== socket.OPEN) return;
    this.unflushed += 1;
    if (!raw) {
      socket.send(Buffer.concat([Buffer.from(prefix), serializedResult, CLOSING_BRACE]), { binary: false }, this.written);
      return;
    }
    const length = prefixLength + serializedResult.length + 1;
    const header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
    const frame = Buffer.allocUnsafe(header + length);
    frame[0] = 0x81; // FIN, text
    if (header === 2) frame[1] = length;
    else if (header === 4) {
      frame[1] = 126;
      frame.writeUInt16BE(length, 2);
    } else {
      frame[1] = 127;
      frame.writeUInt32BE(0, 2);
      frame.writeUInt32BE(length, 6);
    }
    frame.write(prefix, header, prefixLength, 'utf8');
    serializedResult.copy(frame, header + prefixLength);
    frame[header + length - 1] = 0x7d; // }
    raw.write(frame, this.written);
  }
}

const CLOSING_BRACE = Buffer.from('}');

/**
 * GraphQL over WebSocket (graphql-transport-ws) on the gateway's /graphql: subscriptions are
 * planned and multiplexed by the hub; queries and mutations go through Apollo Server as over
 * HTTP. The bearer token comes in `connectionParams.authorization`; a bad one closes with 4403.
 */
export function serveGraphQLOverWebSocket(deps: {
  httpServer: http.Server;
  planner: () => SubscriptionPlanner;
  gate: SubscriptionGate;
  apollo: ApolloServer<GatewayContext>;
  verifier: TokenVerifier;
  logger: Logger;
  limits?: Partial<WebSocketLimits>;
  /** Operation limits, rate limits and persisted documents (protection/): errors reject the operation. */
  /** The client's address behind trusted proxies (default: the socket's peer). */
  clientAddress?: (request: http.IncomingMessage) => string | undefined;
  protect?: (payload: { query: string; variables?: unknown; extensions?: unknown }, client: { viewer?: Viewer; ip: string | undefined }) => Promise<readonly GraphQLError[] | undefined>;
}) {
  const limits = { ...DEFAULT_WEBSOCKET_LIMITS, ...deps.limits };
  const wsServer = attachWebSocketServer(deps.httpServer, '/graphql');

  const documents = createDocumentCache();
  const disposable = serveGraphQLWs<{ authorization?: unknown }, SocketExtra & { connection?: ConnectionState }>(
    {
      schema: () => deps.planner().schema,
      parse: documents.parse,
      validate: documents.validate,
      onSubscribe: async (ctx, _id, payload) => {
        const errors = await deps.protect?.(payload, { viewer: ctx.extra.connection?.viewer, ip: ctx.extra.client.ip });
        if (errors) return errors;
        (payload as { query: string }).query = documents.intern(payload.query);
        return undefined;
      },
      onConnect: async (ctx) => {
        const raw = ctx.connectionParams?.authorization;
        const authorization = typeof raw === 'string' && raw !== '' ? raw : undefined;
        try {
          const viewer = await deps.verifier.viewerFromAuthorization(authorization);
          ctx.extra.connection = { viewer, authorization, active: 0, socket: ctx.extra.socket };
          return true;
        } catch {
          return false; // graphql-ws closes with 4403 Forbidden
        }
      },
      context: (ctx, operationId, payload): WsContext => {
        // onConnect ran before any operation, so the connection state exists.
        const connection = ctx.extra.connection as ConnectionState;
        // Node builds a UUID by concatenation; a subscription keeps its id for its whole life, and
        // the flat copy takes ~60 bytes where the concatenation tree takes ~500.
        const requestId = Buffer.from(randomUUID(), 'latin1').toString('latin1');
        const { client } = ctx.extra;
        return {
          viewer: connection.viewer,
          requestId,
          trace: contextOfWebSocketOperation(payload.extensions, client.traceHeaders ?? {}, requestId),
          authorization: connection.authorization,
          client: { ip: client.ip, userAgent: client.userAgent },
          connection,
          operationId,
        };
      },
      execute: async (args: ExecutionArgs): Promise<ExecutionResult> => {
        const contextValue = args.contextValue as WsContext;
        return inOperationSpan('WS /graphql', contextValue, async () => {
          const response = await deps.apollo.executeOperation(
            { query: print(args.document), variables: args.variableValues ?? {}, operationName: args.operationName ?? undefined },
            { contextValue },
          );
          if (response.body.kind !== 'single') return { errors: [createError('BAD_USER_INPUT', 'Incremental delivery is not supported over WebSocket.')] };
          return response.body.singleResult as ExecutionResult;
        });
      },
      subscribe: async (args: ExecutionArgs) => {
        const context = args.contextValue as WsContext;
        // The span covers the set-up (gate, plan, upstream subscription); each event gets its own
        // span in the hub, linked to the one of the subscription that opened the upstream.
        return inOperationSpan(operationSpanName(args.document, args.operationName), context, async (span) => {
          const opened = await deps.gate.open({
            document: args.document,
            operationName: args.operationName ?? undefined,
            variables: (args.variableValues ?? {}) as Record<string, unknown>,
            context,
            connection: context.connection,
            // Results go straight to the socket; graphql-ws only sees a terminal error and the end.
            sink: createSocketSink(context.connection.socket, context.operationId),
          });
          // graphql-ws keeps the context for the subscription's life; its trace parent was for the
          // set-up only (each event's span is a root of its own, in the hub).
          context.trace = ROOT_CONTEXT;
          if ('errors' in opened) {
            span.setStatus({ code: SpanStatusCode.ERROR });
            return { errors: opened.errors };
          }
          return opened.iterator;
        });
      },
      // Query and mutation results arrive already formatted by Apollo (plain error objects, no
      // toJSON): send them as they are instead of letting graphql-ws call toJSON on each error.
      onNext: (_ctx, _id, _payload, _args, result) => result,
      onError: (_ctx, _id, _payload, errors) => {
        deps.logger.debug({ errors: errors.map((error) => error.message) }, 'websocket operation rejected');
      },
    },
    wsServer,
    {
      keepAliveMs: limits.keepAliveMs,
      connectionInitTimeoutMs: limits.connectionInitTimeoutMs,
      logger: deps.logger,
      extraOf: (socket, request) => ({ socket, client: describeClient(request, deps.clientAddress) }),
    },
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
