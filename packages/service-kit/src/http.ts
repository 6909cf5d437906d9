import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:4001 */
  url: string;
  port: number;
  server: http.Server;
  close(): Promise<void>;
}

/** Listens on `port` (0 = any free port) and resolves once the socket is bound. */
export async function listen(server: http.Server, port: number, host = '127.0.0.1'): Promise<RunningServer> {
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
