import type http from 'node:http';
import net from 'node:net';
import type { Socket } from 'node:net';

/** How long a just-accepted connection gets to deliver its first request before it counts as idle. */
const FRESH_CONNECTION_GRACE_MS = 500;

/**
 * Graceful stop of an HTTP server that loses no request. Node's `server.close()` (and Apollo's
 * drain plugin) end every connection without a request in progress at once, including one that
 * was accepted a moment ago and whose request is still on its way: under load that request is
 * reset (seen as ECONNRESET by clients of the gateway). Here the server first stops accepting,
 * then gives freshly accepted connections a moment to deliver their request, then ends the idle
 * ones; in-flight requests finish (their responses carry `Connection: close` while draining) and
 * whatever is left after `timeoutMs` is destroyed.
 */
export function createConnectionDrain(server: http.Server) {
  // Connections accepted but not yet seen carrying a request (or a WebSocket upgrade).
  const fresh = new Set<Socket>();
  // Every open connection, upgraded ones (WebSockets) included: http.Server no longer tracks those.
  const open = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    fresh.add(socket);
    open.add(socket);
    socket.once('close', () => {
      fresh.delete(socket);
      open.delete(socket);
    });
  });
  const seen = (request: http.IncomingMessage) => fresh.delete(request.socket);
  server.on('request', seen);
  server.on('upgrade', seen);

  return {
    async drain(timeoutMs: number): Promise<void> {
      if (!server.listening) return;
      const deadline = Date.now() + timeoutMs;
      // net.Server's close stops accepting without http.Server's immediate closing of idle connections.
      const closed = new Promise<void>((resolve) => net.Server.prototype.close.call(server, () => resolve()));
      const graceEnd = Math.min(deadline, Date.now() + FRESH_CONNECTION_GRACE_MS);
      while (fresh.size > 0 && Date.now() < graceEnd) await new Promise((resolve) => setTimeout(resolve, 10));
      server.closeIdleConnections();
      // A response finished after this point closes its connection itself (Connection: close);
      // poll for idle ones in case a client kept a connection open anyway.
      const sweep = setInterval(() => server.closeIdleConnections(), 100);
      const hardStop = setTimeout(() => {
        server.closeAllConnections();
        for (const socket of open) socket.destroy();
      }, Math.max(0, deadline - Date.now()));
      try {
        await closed;
      } finally {
        clearInterval(sweep);
        clearTimeout(hardStop);
      }
    },
  };
}

export type ConnectionDrain = ReturnType<typeof createConnectionDrain>;
