import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import type { TestTokenIssuer } from '@meridian/testing';
import { loadGatewayConfig } from '../src/config';
import {
  codesOf,
  post,
  startProtectedGateway,
  startSubgraphRecorders,
  startTestTokenIssuer,
  wsRun,
  type Recorders,
  type StartedGateway,
} from './protectionHarness';

// Reaches the user subgraph anonymously (the recorder answers with an error: a partial result).
const USERS = '{ users(first: 1) { edges { node { id } } } }';
const TYPENAME = '{ __typename }';

/** A graphql-ws client whose upgrade request carries `headers` (as a proxy in front would add them). */
function wsClientWith(wsUrl: string, headers: Record<string, string>): Client {
  class WebSocketWithHeaders extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  }
  return createClient({ url: wsUrl, webSocketImpl: WebSocketWithHeaders, retryAttempts: 0, lazy: true });
}

const forwardedFor = (address: string) => ({ 'x-forwarded-for': address });

describe('client address behind proxies (TRUST_PROXY)', () => {
  let issuer: TestTokenIssuer;
  let recorders: Recorders;
  const gateways: StartedGateway[] = [];
  const clients: Client[] = [];

  /** A fresh gateway (fresh in-memory budgets) allowing `points` operations per client. */
  async function gateway(trustProxy: string | undefined, points = 2): Promise<StartedGateway> {
    const env: Record<string, string> = { RATE_LIMIT_POINTS: String(points), RATE_LIMIT_WINDOW_SECONDS: '3600' };
    if (trustProxy !== undefined) env.TRUST_PROXY = trustProxy;
    const started = await startProtectedGateway({ recorders, issuer, env });
    gateways.push(started);
    return started;
  }
  const ws = (started: StartedGateway, headers: Record<string, string>) => {
    const client = wsClientWith(started.wsUrl, headers);
    clients.push(client);
    return client;
  };
  const lastForwardedToUser = () => recorders.received('user').at(-1)?.['x-forwarded-for'];

  beforeAll(async () => {
    issuer = await startTestTokenIssuer();
    recorders = await startSubgraphRecorders();
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.dispose()));
    await Promise.all(gateways.map((started) => started.gateway.close()));
    await recorders?.close();
    await issuer?.close();
  });

  describe('unset (no proxy trusted)', () => {
    it('over HTTP, charges requests with different spoofed X-Forwarded-For to one budget: the socket’s address', async () => {
      const started = await gateway(undefined);
      expect((await post(started.url, { query: TYPENAME }, forwardedFor('198.51.100.1'))).status).toBe(200);
      expect((await post(started.url, { query: TYPENAME }, forwardedFor('198.51.100.2'))).status).toBe(200);
      const refused = await post(started.url, { query: TYPENAME }, forwardedFor('198.51.100.3'));
      expect(refused.status).toBe(429);
      expect(codesOf(refused.body.errors)).toEqual(['RATE_LIMITED']);
    });

    it('over WebSocket, charges upgrades with different spoofed X-Forwarded-For to one budget', async () => {
      const started = await gateway(undefined);
      expect((await wsRun(ws(started, forwardedFor('198.51.100.1')), { query: TYPENAME })).result).toEqual({ data: { __typename: 'Query' } });
      expect((await wsRun(ws(started, forwardedFor('198.51.100.2')), { query: TYPENAME })).result).toEqual({ data: { __typename: 'Query' } });
      const refused = await wsRun(ws(started, forwardedFor('198.51.100.3')), { query: TYPENAME });
      expect(codesOf(refused.errors)).toEqual(['RATE_LIMITED']);
    });

    it('forwards the socket’s address to subgraphs, not the spoofed one (HTTP and WebSocket)', async () => {
      const started = await gateway(undefined, 100);
      const response = await post(started.url, { query: USERS }, forwardedFor('198.51.100.1'));
      expect(response.status).toBe(200);
      expect(lastForwardedToUser()).toBe('127.0.0.1');
      const result = await wsRun(ws(started, forwardedFor('198.51.100.2')), { query: USERS });
      expect(result.result?.errors?.length).toBeGreaterThan(0); // the recorder's error, so the fetch happened
      expect(lastForwardedToUser()).toBe('127.0.0.1');
    });
  });

  describe('one trusted hop', () => {
    it('over HTTP, gives two forwarded clients separate budgets, keyed on the entry the proxy added', async () => {
      const started = await gateway('1');
      // The proxy appends the address it saw; anything before it is the client's own claim.
      const first = forwardedFor('6.6.6.6, 203.0.113.1');
      expect((await post(started.url, { query: TYPENAME }, first)).status).toBe(200);
      expect((await post(started.url, { query: TYPENAME }, forwardedFor('7.7.7.7, 203.0.113.1'))).status).toBe(200);
      expect((await post(started.url, { query: TYPENAME }, first)).status).toBe(429);
      expect((await post(started.url, { query: TYPENAME }, forwardedFor('203.0.113.2'))).status).toBe(200);
    });

    it('over WebSocket, gives two forwarded clients separate budgets', async () => {
      const started = await gateway('1');
      const first = ws(started, forwardedFor('203.0.113.1'));
      expect((await wsRun(first, { query: TYPENAME })).result).toEqual({ data: { __typename: 'Query' } });
      expect((await wsRun(first, { query: TYPENAME })).result).toEqual({ data: { __typename: 'Query' } });
      expect(codesOf((await wsRun(first, { query: TYPENAME })).errors)).toEqual(['RATE_LIMITED']);
      const second = ws(started, forwardedFor('6.6.6.6, 203.0.113.2'));
      expect((await wsRun(second, { query: TYPENAME })).result).toEqual({ data: { __typename: 'Query' } });
      // The same client through another connection still has no budget left.
      expect(codesOf((await wsRun(ws(started, forwardedFor('203.0.113.1')), { query: TYPENAME })).errors)).toEqual(['RATE_LIMITED']);
    });

    it('forwards the real client’s address to subgraphs (HTTP and WebSocket)', async () => {
      const started = await gateway('1', 100);
      expect((await post(started.url, { query: USERS }, forwardedFor('6.6.6.6, 203.0.113.9'))).status).toBe(200);
      expect(lastForwardedToUser()).toBe('203.0.113.9');
      await wsRun(ws(started, forwardedFor('203.0.113.10')), { query: USERS });
      expect(lastForwardedToUser()).toBe('203.0.113.10');
      // A request that came through no proxy header is its socket's.
      expect((await post(started.url, { query: USERS })).status).toBe(200);
      expect(lastForwardedToUser()).toBe('127.0.0.1');
    });
  });

  describe('trusted addresses', () => {
    it('believes X-Forwarded-For only from a listed proxy', async () => {
      const trusted = await gateway('127.0.0.1/32, 10.0.0.0/8', 100);
      await post(trusted.url, { query: USERS }, forwardedFor('203.0.113.20'));
      expect(lastForwardedToUser()).toBe('203.0.113.20');
      const untrusted = await gateway('10.0.0.0/8', 100);
      await post(untrusted.url, { query: USERS }, forwardedFor('203.0.113.21'));
      expect(lastForwardedToUser()).toBe('127.0.0.1');
    });
  });

  describe('configuration', () => {
    it('reads a hop count or a list of addresses, and trusts nobody by default', () => {
      expect(loadGatewayConfig({}).protection.trustProxy).toBe(0);
      expect(loadGatewayConfig({ TRUST_PROXY: '2' }).protection.trustProxy).toBe(2);
      expect(loadGatewayConfig({ TRUST_PROXY: ' 10.0.0.0/8 , loopback' }).protection.trustProxy).toEqual(['10.0.0.0/8', 'loopback']);
    });

    it.each([
      ['true', /TRUST_PROXY: .*every X-Forwarded-For/],
      ['10.0.0.0/8, nonsense', /TRUST_PROXY: .*invalid IP address: nonsense/],
      ['10.0.0.0/40', /TRUST_PROXY: .*invalid range on address/],
      ['10.0.0.1,,10.0.0.2', /TRUST_PROXY: .*empty entry/],
      ['-1', /TRUST_PROXY: .*invalid IP address/],
    ])('refuses TRUST_PROXY=%s, naming the variable and what is wrong', (value, message) => {
      expect(() => loadGatewayConfig({ TRUST_PROXY: value })).toThrow(message);
    });
  });
});
