import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pino from 'pino';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { findRepoRoot } from '@meridian/composition';
import { createTokenVerifier } from '@meridian/tokens';
import { startTestTokenIssuer, type TestTokenIssuer } from '@meridian/testing';
import { loadGatewayConfig } from '../src/config';
import { createGateway, type Gateway } from '../src/server';

const root = findRepoRoot(__dirname);
export const SUBGRAPHS = ['user', 'auth', 'task', 'notification', 'analytics'] as const;

/**
 * Stands where the subgraphs would be and counts what reaches them: a limit that works
 * leaves every count at zero. It answers each fetch with a GraphQL error (the gateway turns
 * that into a partial result), so an accepted operation is visible as a count and a 200.
 */
export async function startSubgraphRecorders() {
  const counts = new Map<string, number>(SUBGRAPHS.map((name) => [name, 0]));
  const received: { subgraph: string; headers: http.IncomingHttpHeaders }[] = [];
  const servers = await Promise.all(
    SUBGRAPHS.map(async (name) => {
      const server = http.createServer((req, res) => {
        counts.set(name, (counts.get(name) ?? 0) + 1);
        received.push({ subgraph: name, headers: req.headers });
        req.resume();
        req.on('end', () => {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ data: null, errors: [{ message: `${name} is a recorder`, extensions: { code: 'SUBGRAPH_UNAVAILABLE' } }] }));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return { name, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql` };
    }),
  );
  return {
    env: Object.fromEntries(servers.map(({ name, url }) => [`${name.toUpperCase()}_SUBGRAPH_URL`, url])),
    total: () => [...counts.values()].reduce((sum, count) => sum + count, 0),
    count: (name: string) => counts.get(name) ?? 0,
    /** Headers of every request a subgraph received, oldest first. */
    received: (name: string) => received.filter((request) => request.subgraph === name).map((request) => request.headers),
    close: () =>
      Promise.all(
        servers.map(
          ({ server }) =>
            new Promise<void>((resolve) => {
              server.closeAllConnections();
              server.close(() => resolve());
            }),
        ),
      ),
  };
}

export type Recorders = Awaited<ReturnType<typeof startSubgraphRecorders>>;

export interface StartedGateway {
  gateway: Gateway;
  url: string;
  wsUrl: string;
}

/** A real gateway configured from environment variables, as `main.ts` would be. */
export async function startProtectedGateway(options: { recorders: Recorders; issuer: TestTokenIssuer; env?: Record<string, string> }): Promise<StartedGateway> {
  const config = loadGatewayConfig({
    SUPERGRAPH_PATH: path.join(root, 'supergraph.graphql'),
    SUPERGRAPH_CONFIG_PATH: path.join(root, 'supergraph.yaml'),
    JWKS_URL: options.issuer.jwksUrl,
    NODE_ENV: 'test',
    ...options.recorders.env,
    ...options.env,
  });
  const gateway = createGateway({
    ...config,
    verifier: createTokenVerifier(config.tokens),
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
  });
  const running = await gateway.listen(0, '127.0.0.1');
  return { gateway, url: `${running.url}/graphql`, wsUrl: `${running.url.replace(/^http/, 'ws')}/graphql` };
}

export { startTestTokenIssuer };

export interface HttpResult {
  status: number;
  headers: Headers;
  body: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

/** POSTs a JSON body the way a GraphQL client does. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: HttpResult['body'];
  try {
    parsed = JSON.parse(text) as HttpResult['body'];
  } catch {
    throw new Error(`Non-JSON response (HTTP ${response.status}): ${text.slice(0, 300)}`);
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

export const codesOf = (errors: { extensions?: Record<string, unknown> }[] | readonly unknown[] | undefined) =>
  (errors ?? []).map((error) => String((error as { extensions?: { code?: unknown } }).extensions?.code));

export function wsClient(wsUrl: string, token?: string): Client {
  return createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: true,
  });
}

/** Runs one operation over graphql-ws: its first result, or the errors it was refused with. */
export function wsRun(
  client: Client,
  payload: { query: string; variables?: Record<string, unknown>; extensions?: Record<string, unknown> },
): Promise<{ result?: { data?: unknown; errors?: unknown[] }; errors?: { message: string; extensions?: Record<string, unknown> }[]; closed?: number }> {
  return new Promise((resolve) => {
    let settled = false;
    const unsubscribe = client.subscribe(payload, {
      next: (value) => {
        if (settled) return;
        settled = true;
        unsubscribe();
        resolve({ result: value as { data?: unknown; errors?: unknown[] } });
      },
      error: (error) => {
        if (settled) return;
        settled = true;
        if (Array.isArray(error)) resolve({ errors: error as { message: string; extensions?: Record<string, unknown> }[] });
        else resolve({ closed: (error as { code?: number }).code ?? -1 });
      },
      complete: () => {
        if (settled) return;
        settled = true;
        resolve({});
      },
    });
  });
}
