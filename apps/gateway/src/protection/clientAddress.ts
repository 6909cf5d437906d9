import type http from 'node:http';
import proxyaddr from 'proxy-addr';

/**
 * Who stands between clients and the gateway, in the terms of Express's `trust proxy`: a hop
 * count (0: nobody, the socket's peer is the client) or the addresses/CIDRs of trusted proxies
 * (`loopback`, `linklocal` and `uniquelocal` name the usual private ranges).
 */
export type TrustProxy = number | readonly string[];

export type TrustFunction = (address: string, hop: number) => boolean;

/**
 * Reads TRUST_PROXY: `3` (hops) or `10.0.0.0/8, 192.168.1.7`. `true` (trust every hop) is
 * refused: any client could then choose its own address and rate-limit budget.
 */
export function parseTrustProxy(value: string | undefined): TrustProxy {
  const text = value?.trim() ?? '';
  if (text === '' || text === 'false') return 0;
  if (/^\d+$/.test(text)) return Number(text);
  if (text === 'true') {
    throw new Error('"true" would trust every X-Forwarded-For entry a client sends; give a hop count (e.g. 1) or the proxies\' addresses/CIDRs');
  }
  const entries = text.split(',').map((entry) => entry.trim());
  if (entries.some((entry) => entry === '')) throw new Error(`"${text}" has an empty entry; expected a hop count or comma-separated addresses/CIDRs`);
  try {
    proxyaddr.compile(entries);
  } catch (error) {
    throw new Error(`${(error as Error).message}; expected a hop count or comma-separated addresses/CIDRs (e.g. 10.0.0.0/8)`);
  }
  return entries;
}

/** The same rule Express applies for `req.ip`, usable on requests Express never sees (WebSocket upgrades). */
export function compileTrustProxy(trust: TrustProxy): TrustFunction {
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return proxyaddr.compile([...trust]);
}

/**
 * The client's address: the socket's peer, or, when that peer is a trusted proxy, the nearest
 * X-Forwarded-For entry not added by a trusted proxy. Never a header value a client chose
 * itself unless every hop after it is trusted.
 */
export function clientAddressOf(req: http.IncomingMessage, trust: TrustFunction): string {
  return proxyaddr(req, trust) || 'unknown';
}
