import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:4001 */
  url: string;
  port: number;
  server: http.Server;
  close(): Promise<void>;
}

/** Longer than any client's idle timeout (see `listen`). */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** Listens on `port` (0 = any free port) and resolves once the socket is bound. */
export async function listen(server: http.Server, port: number, host = '127.0.0.1'): Promise<RunningServer> {
  // Idle keep-alive connections are closed by the client, never by us: a server that closes an
  // idle socket while the client (the gateway, a load balancer) sends on it loses that request
  // (ECONNRESET), and a mutation cannot be retried. Clients here keep idle sockets for at most
  // 30 s (the gateway's subgraph pool) or 60 s (typical load balancers).
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(error.code === 'EADDRINUSE' ? new Error(`Port ${port} on ${host} is already in use.`) : error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
  const address = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    server,
    close: () => closeServer(server),
  };
}

/** Stops accepting, lets in-flight requests finish, then drops idle keep-alive sockets. */
export function closeServer(server: http.Server, graceMs = 5_000): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
