import type http from 'node:http';
import { CloseCode, handleProtocols, makeServer, type ServerOptions, type WebSocket as GraphQLWsSocket } from 'graphql-ws';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '@meridian/service-kit';

/**
 * What an operation may need of the HTTP upgrade request, taken from it when the socket opens:
 * the request itself (its headers, raw headers, URL) is not kept for the life of the connection.
 */
export interface SocketClient {
  /** The client's address (behind trusted proxies: the forwarded one). */
  ip: string | undefined;
  userAgent: string | undefined;
  /** W3C trace context and baggage headers of the upgrade, only when the client sent some. */
  traceHeaders: Record<string, string> | undefined;
}

export interface SocketExtra {
  socket: WebSocket;
  client: SocketClient;
}

const TRACE_HEADERS = ['traceparent', 'tracestate', 'baggage'] as const;

/** The client's part of the upgrade request, as a few strings. */
export function describeClient(request: http.IncomingMessage, clientAddress?: (request: http.IncomingMessage) => string | undefined): SocketClient {
  let traceHeaders: Record<string, string> | undefined;
  for (const name of TRACE_HEADERS) {
    const value = request.headers[name];
    if (typeof value === 'string') (traceHeaders ??= {})[name] = value;
  }
  return { ip: clientAddress?.(request) ?? request.socket.remoteAddress, userAgent: request.headers['user-agent'], traceHeaders };
}

/** Sockets that have not sent connection_init yet, and their timers. */
const awaitingInit = new WeakMap<WebSocket, NodeJS.Timeout>();

function initTimedOut(socket: WebSocket) {
  awaitingInit.delete(socket);
  socket.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
}

function stopInitTimer(socket: WebSocket) {
  clearTimeout(awaitingInit.get(socket));
  awaitingInit.delete(socket);
}

/** Sockets pinged by the last keep-alive round that have not answered yet. */
const awaitingPong = new WeakSet<WebSocket>();

/**
 * A `ws` socket as graphql-ws's server sees it. A class, and the socket's listeners shared
 * functions that find it by socket: no closures per connection (ADR 0024).
 */
class ProtocolSocket implements GraphQLWsSocket {
  handle: ((data: string) => Promise<void>) | undefined;
  closed: ((code?: number, reason?: string) => Promise<void>) | undefined;

  constructor(
    readonly socket: WebSocket,
    private readonly logger: Logger,
  ) {}

  get protocol(): string {
    return this.socket.protocol;
  }

  send(data: string): Promise<void> | void {
    const { socket } = this;
    if (socket.readyState !== socket.OPEN) return;
    return new Promise<void>((resolve, reject) => socket.send(data, (error) => (error ? reject(error) : resolve())));
  }

  close(code?: number, reason?: string): void {
    this.socket.close(code, reason);
  }

  onMessage(handle: (data: string) => Promise<void>): void {
    this.handle = handle;
  }

  fail(error: unknown, what: string): void {
    this.logger.error({ err: error }, `websocket: ${what}`);
    this.socket.close(CloseCode.InternalServerError, 'Internal server error');
  }
}

const protocolSockets = new WeakMap<WebSocket, ProtocolSocket>();

function onSocketMessage(this: WebSocket, data: RawData) {
  const protocolSocket = protocolSockets.get(this);
  protocolSocket?.handle?.(String(data)).catch((error: unknown) => protocolSocket.fail(error, 'message handling failed'));
}

function onSocketError(this: WebSocket, error: Error) {
  protocolSockets.get(this)?.fail(error, 'socket error');
}

function onSocketClose(this: WebSocket, code: number, reason: Buffer) {
  stopInitTimer(this);
  void protocolSockets.get(this)?.closed?.(code, String(reason));
  protocolSockets.delete(this);
}

function onPong(this: WebSocket) {
  awaitingPong.delete(this);
}

/** Slices of a keep-alive round (each a timer tick visiting its share of the sockets). */
const KEEP_ALIVE_SLICES = 48;

/** A socket's turn in a keep-alive round: dropped if it did not answer the last ping, else pinged. */
function keepAliveVisit(socket: WebSocket) {
  if (socket.readyState !== socket.OPEN) return;
  if (awaitingPong.has(socket)) {
    socket.terminate();
    return;
  }
  awaitingPong.add(socket);
  socket.ping();
}

/**
 * graphql-ws's protocol server (`makeServer`: connection_init, subscribe, next, complete, the
 * close codes) on the sockets of a `ws` server. It replaces the package's own `useServer`
 * adapter, which per connection keeps the HTTP upgrade request and its headers, a keep-alive
 * interval and the cleared init timer; at 10,000s of connections that was a quarter of the
 * gateway's memory per idle subscription (ADR 0024). Here each socket holds its `SocketClient`;
 * the init timer is dropped once connection_init arrives (closing with 4408 otherwise, as
 * graphql-ws does); and one keep-alive round for the whole server, spread over `keepAliveMs`,
 * pings every open socket and ends the ones that did not answer the previous round's ping (as
 * `useServer`: one interval to answer).
 */
export function serveGraphQLWs<P extends Record<string, unknown>, E extends SocketExtra>(
  options: ServerOptions<P, E>,
  wsServer: WebSocketServer,
  deps: {
    keepAliveMs: number;
    /** Time a client has to send connection_init (then 4408). */
    connectionInitTimeoutMs: number;
    logger: Logger;
    /** The extra context of a new connection (at least its socket and client). */
    extraOf: (socket: WebSocket, request: http.IncomingMessage) => E;
  },
) {
  const server = makeServer<P, E>({
    ...options,
    connectionInitWaitTimeout: Infinity, // ours, below: graphql-ws's timer lives as long as the socket
    onConnect: (ctx) => {
      stopInitTimer(ctx.extra.socket);
      return options.onConnect?.(ctx);
    },
  });
  wsServer.options.handleProtocols = handleProtocols;

  wsServer.once('error', (error) => {
    deps.logger.error({ err: error }, 'websocket server error');
    for (const socket of wsServer.clients) socket.close(CloseCode.InternalServerError, 'Internal server error');
  });

  wsServer.on('connection', (socket: WebSocket, request: http.IncomingMessage) => {
    const protocolSocket = new ProtocolSocket(socket, deps.logger);
    protocolSockets.set(socket, protocolSocket);
    socket.on('error', onSocketError);
    socket.on('message', onSocketMessage);
    socket.on('close', onSocketClose);
    socket.on('pong', onPong);
    awaitingInit.set(socket, setTimeout(initTimedOut, deps.connectionInitTimeoutMs, socket));
    protocolSocket.closed = server.opened(protocolSocket, deps.extraOf(socket, request));
  });

  // One keep-alive round per `keepAliveMs`, spread over it in slices: pinging 10,000 sockets at
  // once (and reading their 10,000 pongs) would stall every event for a few hundred milliseconds.
  let round: Iterator<WebSocket> | undefined;
  let roundStartedAt = 0;
  let perSlice = 0;
  const keepAlive =
    deps.keepAliveMs > 0 && Number.isFinite(deps.keepAliveMs)
      ? setInterval(() => {
          if (!round) {
            if (Date.now() - roundStartedAt < deps.keepAliveMs) return;
            roundStartedAt = Date.now();
            round = wsServer.clients.values();
            perSlice = Math.max(1, Math.ceil(wsServer.clients.size / KEEP_ALIVE_SLICES));
          }
          for (let visited = 0; visited < perSlice; visited++) {
            const next = round.next();
            if (next.done) {
              round = undefined;
              return;
            }
            keepAliveVisit(next.value);
          }
        }, Math.max(1, deps.keepAliveMs / KEEP_ALIVE_SLICES))
      : undefined;
  keepAlive?.unref();

  return {
    /** Closes every socket with 1001 and stops the keep-alive round. */
    async dispose() {
      if (keepAlive) clearInterval(keepAlive);
      for (const socket of wsServer.clients) socket.close(1001, 'Going away');
      wsServer.removeAllListeners();
    },
  };
}
