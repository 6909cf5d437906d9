import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import WebSocket, { WebSocketServer } from 'ws';
import { loadDashboardConfig, normalizeGatewayUrl, startDashboardServer, type DashboardServer } from '../server';

/**
 * The dashboard server in front of a stand-in gateway: a real HTTP server that answers
 * /graphql and a real graphql-transport-ws endpoint, so the proxy is exercised for both.
 */
describe('dashboard server', () => {
  let staticDir: string;
  let upstream: http.Server;
  let upstreamUrl: string;
  let dashboard: DashboardServer;
  const seen: { method?: string; url?: string; authorization?: string; forwardedFor?: string | string[]; body: string }[] = [];

  beforeAll(async () => {
    staticDir = mkdtempSync(path.join(os.tmpdir(), 'dashboard-static-'));
    mkdirSync(path.join(staticDir, 'assets'));
    writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Meridian</title><div id="root"></div>');
    writeFileSync(path.join(staticDir, 'assets', 'index-abc123.js'), 'console.log("app")');

    upstream = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization, forwardedFor: req.headers['x-forwarded-for'], body });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ data: { echo: JSON.parse(body || '{}').query ?? null } }));
      });
    });
    // A minimal graphql-transport-ws server: ack, then one result per subscribe, then complete.
    const wss = new WebSocketServer({ server: upstream, path: '/graphql' });
    wss.on('connection', (socket, request) => {
      socket.on('message', (raw) => {
        const message = JSON.parse(raw.toString()) as { type: string; id?: string; payload?: { authorization?: string } };
        if (message.type === 'connection_init') socket.send(JSON.stringify({ type: 'connection_ack', payload: { path: request.url, authorization: message.payload?.authorization } }));
        if (message.type === 'subscribe') {
          socket.send(JSON.stringify({ id: message.id, type: 'next', payload: { data: { tick: 1 } } }));
          socket.send(JSON.stringify({ id: message.id, type: 'complete' }));
        }
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    dashboard = await startDashboardServer({ port: 0, gatewayUrl: `${upstreamUrl}/graphql`, staticDir });
  });

  afterAll(async () => {
    await dashboard?.stop();
    upstream?.closeAllConnections();
    await new Promise((resolve) => upstream?.close(resolve));
    rmSync(staticDir, { recursive: true, force: true });
  });

  it('answers /healthz', async () => {
    const response = await fetch(`${dashboard.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('serves the app, with index.html for client-side routes and long caching for hashed assets', async () => {
    const page = await fetch(`${dashboard.url}/analytics`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const asset = await fetch(`${dashboard.url}/assets/index-abc123.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${dashboard.url}/assets/missing.js`)).status).toBe(404);
  });

  it('proxies POST /graphql to the gateway with its headers and body, path unchanged', async () => {
    const response = await fetch(`${dashboard.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer abc' },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    expect(await response.json()).toEqual({ data: { echo: '{ me { id } }' } });
    expect(seen.at(-1)).toMatchObject({ method: 'POST', url: '/graphql', authorization: 'Bearer abc' });
    // The browser's address is appended for the gateway's per-client rate limits.
    expect(String(seen.at(-1)?.forwardedFor)).toMatch(/127\.0\.0\.1/);
  });

  it('proxies WebSocket upgrades on /graphql (graphql-ws end to end)', async () => {
    let ackPayload: unknown;
    const client = createClient({
      url: `${dashboard.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: 'Bearer xyz' },
      retryAttempts: 0,
      on: { connected: (_socket, payload) => (ackPayload = payload) },
    });
    const results: unknown[] = [];
    for await (const result of client.iterate({ query: 'subscription { tick }' })) results.push(result);
    await client.dispose();
    expect(results).toEqual([{ data: { tick: 1 } }]);
    expect(ackPayload).toEqual({ path: '/graphql', authorization: 'Bearer xyz' });
  });

  it('answers 502 with a GraphQL error the app can explain when the gateway is down', async () => {
    const down = await startDashboardServer({ port: 0, gatewayUrl: 'http://127.0.0.1:9', staticDir });
    try {
      const response = await fetch(`${down.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ me { id } }"}' });
      expect(response.status).toBe(502);
      const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
      expect(body.errors[0]?.extensions.code).toBe('GATEWAY_UNAVAILABLE');
    } finally {
      await down.stop();
    }
  });

  it('refuses to start without a built app, saying how to build it', async () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'dashboard-empty-'));
    try {
      await expect(startDashboardServer({ port: 0, gatewayUrl: upstreamUrl, staticDir: empty })).rejects.toThrow('npm run build -w @meridian/dashboard');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('normalises and validates the gateway URL', () => {
    expect(normalizeGatewayUrl('http://gateway:4000/graphql')).toBe('http://gateway:4000');
    expect(normalizeGatewayUrl('https://api.example.com/')).toBe('https://api.example.com');
    expect(() => normalizeGatewayUrl('gateway:4000')).toThrow('GATEWAY_URL must use http or https');
    expect(() => normalizeGatewayUrl('not a url')).toThrow('GATEWAY_URL must be an absolute http(s) URL');
  });

  it('reads its configuration from the environment, naming a bad variable', () => {
    expect(loadDashboardConfig({})).toEqual({ port: 4100, host: '127.0.0.1', gatewayUrl: 'http://127.0.0.1:4000' });
    expect(loadDashboardConfig({ DASHBOARD_PORT: '8080', DASHBOARD_HOST: '0.0.0.0', GATEWAY_URL: 'http://gateway:4000' })).toEqual({
      port: 8080,
      host: '0.0.0.0',
      gatewayUrl: 'http://gateway:4000',
    });
    expect(() => loadDashboardConfig({ DASHBOARD_PORT: 'eighty' })).toThrow('DASHBOARD_PORT');
    expect(() => loadDashboardConfig({ GATEWAY_URL: 'nope' })).toThrow('GATEWAY_URL');
  });
});
