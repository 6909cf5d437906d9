import type http from 'node:http';
import { WebSocketServer } from 'ws';

/**
 * A WebSocket server sharing an HTTP server's port, for one path. It handles the upgrade
 * itself (`noServer`), so HTTP-level errors such as EADDRINUSE stay with the HTTP server,
 * and other paths get a plain 404.
 */
export function attachWebSocketServer(httpServer: http.Server, path: string): WebSocketServer {
  const wsServer = new WebSocketServer({ noServer: true });
  httpServer.on('upgrade', (request, socket, head) => {
    const pathname = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (pathname !== path) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wsServer.handleUpgrade(request, socket, head, (ws) => wsServer.emit('connection', ws, request));
  });
  return wsServer;
}
