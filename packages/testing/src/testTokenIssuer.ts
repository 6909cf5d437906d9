import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import { scopesForRoles } from '@meridian/authorization';

export interface TestTokenIssuerOptions {
  /** Key id in the JWKS and in every token's header. */
  kid?: string;
  /** `iss` of the tokens; the platform's default. */
  issuer?: string;
  /** `aud` of the tokens; the platform's default. */
  audience?: string;
}

export interface TestTokenClaims {
  /** `sub`. */
  userId: string;
  /** Default `['MEMBER']`. */
  roles?: readonly string[];
  /** Default: the scopes of `roles`, as the auth service issues them. */
  scope?: string;
  /** Session id; default a fresh one per token. */
  sid?: string;
  /** As jsonwebtoken takes it; default `'15m'`. */
  expiresIn?: jwt.SignOptions['expiresIn'];
  /** Further claims, added as they are. */
  claims?: Record<string, unknown>;
  /** Sign with this key instead of the published one: a forgery the JWKS cannot verify. */
  signingKey?: KeyObject;
}

export interface TestTokenIssuer {
  /** Where the JWKS (the one public key) is served; every other path answers 404. */
  jwksUrl: string;
  issuer: string;
  audience: string;
  kid: string;
  /** An RS256 access token shaped like the auth service's, with a fresh `jti`. */
  sign(claims: TestTokenClaims): string;
  /** Signs exactly `payload` (RS256, the published key and kid): for claim sets `sign` would not produce (wrong iss, nbf...). */
  signPayload(payload: Record<string, unknown>): string;
  close(): Promise<void>;
}

/**
 * A stand-in for the auth service's signing side: an RSA key of its own, its public half served
 * as a JWKS over real HTTP (loopback, port 0), and RS256 access tokens signed with it.
 */
export async function startTestTokenIssuer(options: TestTokenIssuerOptions = {}): Promise<TestTokenIssuer> {
  const kid = options.kid ?? 'test-key';
  const issuer = options.issuer ?? 'meridian-auth';
  const audience = options.audience ?? 'meridian';
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const body = JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] });
  const server = http.createServer((req, res) => {
    if (req.url !== '/jwks.json') {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
    issuer,
    audience,
    kid,
    sign({ userId, roles = ['MEMBER'], scope = scopesForRoles(roles).join(' '), sid = randomUUID(), expiresIn = '15m', claims = {}, signingKey = privateKey }) {
      return jwt.sign({ roles, scope, sid, ...claims }, signingKey, {
        algorithm: 'RS256',
        keyid: kid,
        issuer,
        audience,
        subject: userId,
        jwtid: randomUUID(),
        expiresIn,
      });
    },
    signPayload: (payload) => jwt.sign(payload, privateKey, { algorithm: 'RS256', keyid: kid }),
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
