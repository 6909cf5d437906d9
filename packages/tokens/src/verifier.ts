import { createPublicKey, type KeyObject } from 'node:crypto';
import jwt, { type JwtPayload } from 'jsonwebtoken';
import { JwksClient } from 'jwks-rsa';
import { unauthenticated as unauthenticatedError, withHttpStatus } from '@meridian/errors';
import { anonymousViewer, type Role, type SignedInViewer, type Viewer } from './viewer';

export const ACCESS_TOKEN_ALGORITHM = 'RS256';

// Token problems end the request before execution: HTTP 401 with code UNAUTHENTICATED.
const unauthenticated = (message: string) => withHttpStatus(unauthenticatedError(message));
const ROLES: readonly Role[] = ['ADMIN', 'MEMBER', 'VIEWER'];

export interface TokenVerifierOptions {
  /** The auth service's JWKS endpoint; a function when it is only known once the auth service listens. */
  jwksUrl: string | (() => string);
  issuer: string;
  audience: string;
  clockToleranceSeconds?: number;
  /** How long fetched keys are trusted before being fetched again. */
  cacheMaxAgeMs?: number;
}

export interface TokenVerifier {
  /** Verifies a compact JWT; throws an UNAUTHENTICATED GraphQL error when it is not acceptable. */
  verify(token: string): Promise<SignedInViewer>;
  /** Reads an `Authorization` header: absent means anonymous, anything else must be a valid bearer token. */
  viewerFromAuthorization(header: string | undefined | null): Promise<Viewer>;
}

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  // jwks-rsa caches keys by kid and refetches (rate-limited) when it meets an unknown kid.
  let client: JwksClient | undefined;
  const jwks = () => (client ??= new JwksClient({
    jwksUri: typeof options.jwksUrl === 'function' ? options.jwksUrl() : options.jwksUrl,
    cache: true,
    cacheMaxEntries: 10,
    cacheMaxAge: options.cacheMaxAgeMs ?? 10 * 60_000,
    rateLimit: true,
    jwksRequestsPerMinute: 10,
    timeout: 5_000,
  }));

  // jwks-rsa caches keys by kid (and so decides when a retired key stops verifying); what it
  // returns is PEM text, which jsonwebtoken would parse again on every request. Parse each PEM once.
  const parsedKeys = new Map<string, KeyObject>();
  function keyObjectOf(pem: string): KeyObject {
    let key = parsedKeys.get(pem);
    if (!key) {
      key = createPublicKey(pem);
      if (parsedKeys.size >= 32) parsedKeys.clear();
      parsedKeys.set(pem, key);
    }
    return key;
  }

  async function verify(token: string): Promise<SignedInViewer> {
    const decoded = jwt.decode(token, { complete: true });
    if (!decoded || typeof decoded.payload === 'string') throw unauthenticated('Invalid access token.');
    // Pinning the algorithm before touching keys defeats `alg: none` and HS256-with-public-key tricks.
    if (decoded.header.alg !== ACCESS_TOKEN_ALGORITHM) throw unauthenticated('Invalid access token.');
    const kid = decoded.header.kid;
    if (!kid) throw unauthenticated('Invalid access token.');
    let publicKey: KeyObject;
    try {
      publicKey = keyObjectOf((await jwks().getSigningKey(kid)).getPublicKey());
    } catch {
      throw unauthenticated('Invalid access token.');
    }
    let payload: JwtPayload;
    try {
      payload = jwt.verify(token, publicKey, {
        algorithms: [ACCESS_TOKEN_ALGORITHM],
        issuer: options.issuer,
        audience: options.audience,
        clockTolerance: options.clockToleranceSeconds ?? 5,
        complete: false,
      }) as JwtPayload;
    } catch (error) {
      const expired = error instanceof jwt.TokenExpiredError;
      throw unauthenticated(expired ? 'Access token expired.' : 'Invalid access token.');
    }
    return toViewer(payload);
  }

  return {
    verify,
    async viewerFromAuthorization(header) {
      if (header === undefined || header === null || header === '') return anonymousViewer;
      // The auth scheme is case-insensitive (RFC 9110 §11.1).
      const match = /^Bearer ([A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*)$/i.exec(header.trim());
      if (!match?.[1]) throw unauthenticated('Authorization header must be "Bearer <access token>".');
      return verify(match[1]);
    },
  };
}

function toViewer(payload: JwtPayload): SignedInViewer {
  const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is Role => ROLES.includes(r)) : [];
  const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
  if (typeof payload.sub !== 'string' || typeof payload.jti !== 'string' || typeof payload.exp !== 'number') {
    throw unauthenticated('Invalid access token.');
  }
  const sessionId = typeof payload.sid === 'string' ? payload.sid : undefined;
  return { kind: 'user', userId: payload.sub, roles, scopes, tokenId: payload.jti, expiresAt: payload.exp, ...(sessionId ? { sessionId } : {}) };
}
