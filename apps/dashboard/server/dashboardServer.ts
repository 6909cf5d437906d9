import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';

export interface DashboardServerOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  /** The gateway's HTTP base URL, e.g. http://127.0.0.1:4000 (a trailing /graphql is accepted). */
  gatewayUrl: string;
  /** The built app (`npm run build -w @meridian/dashboard`); defaults to apps/dashboard/dist. */
  staticDir?: string;
}

export interface DashboardServer {
  /** Base URL the browser opens, e.g. http://127.0.0.1:4100. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export const DEFAULT_STATIC_DIR = path.resolve(__dirname, '..', 'dist');

/** The gateway origin without a trailing slash or /graphql; throws naming the bad value. */
export function normalizeGatewayUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`GATEWAY_URL must be an absolute http(s) URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`GATEWAY_URL must use http or https, got ${JSON.stringify(value)}`);
  }
  const pathname = url.pathname.replace(/\/+$/, '').replace(/\/graphql$/, '');
  return `${url.origin}${pathname}`;
}

/**
 * Serves the built dashboard and proxies /graphql (HTTP and WebSocket upgrades) to the
 * gateway, so the browser talks to one origin: no CORS, and the same paths as behind an
 * Ingress. Unknown paths get index.html (client-side routes); /healthz answers for probes.
 */
export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const gateway = normalizeGatewayUrl(options.gatewayUrl);
  const staticDir = options.staticDir ?? DEFAULT_STATIC_DIR;
  const indexHtml = path.join(staticDir, 'index.html');
  if (!existsSync(indexHtml)) {
    throw new Error(`The dashboard is not built: ${indexHtml} is missing. Run \`npm run build -w @meridian/dashboard\`.`);
  }

  const proxy = createProxyMiddleware<http.IncomingMessage, http.ServerResponse>({
    target: gateway,
    changeOrigin: true,
    ws: true,
    // Appends the browser's address to X-Forwarded-For: the gateway (TRUST_PROXY=1 behind this
    // server) rate-limits and logs per real client, not per dashboard server.
    xfwd: true,
    // Mounted with pathFilter (not app.use('/graphql')) so the path reaches the gateway unchanged.
    pathFilter: '/graphql',
    on: {
      error: (error, _req, res) => {
        // The gateway is down or unreachable: a GraphQL-shaped 502 the app can explain.
        if ('writeHead' in res && !res.headersSent) {
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ errors: [{ message: `Gateway unreachable: ${error.message}`, extensions: { code: 'GATEWAY_UNAVAILABLE' } }] }));
        } else if ('destroy' in res) {
          res.destroy();
        }
      },
    },
  });

  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.use(proxy);
  // Hashed assets can be cached for good; index.html must always be revalidated.
  app.use('/assets', express.static(path.join(staticDir, 'assets'), { immutable: true, maxAge: '1y', fallthrough: false }));
  app.use(express.static(staticDir, { index: false, maxAge: 0 }));
  app.get(/.*/, (_req, res) => {
    res.setHeader('cache-control', 'no-cache');
    res.sendFile(indexHtml);
  });

  const server = http.createServer(app);
  server.on('upgrade', (req, socket, head) => {
    if (req.url?.startsWith('/graphql')) proxy.upgrade(req, socket as never, head);
    else socket.destroy();
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
