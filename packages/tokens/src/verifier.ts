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
  /**
   * Where to ask whether a verified token's subject may still use it (`GET <url>/<sub>` answering
   * `{"active": boolean}`): false once the account is deleted or hard-locked. By default derived
   * from a JWKS URL ending in `/.well-known/jwks.json` (the auth service's), as
   * `/.well-known/subject-status`; `false` turns the check off (signature and claims only). An
   * issuer answering 404 there publishes no status: its tokens are checked by signature and claims.
   */
  subjectStatusUrl?: string | (() => string) | false;
  /** How long an answer is reused (default 5 s): a revoked account's tokens stop working within this. */
  subjectStatusCacheMs?: number;
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

  const subjectStatus = createSubjectStatusCheck(options);

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
    const viewer = toViewer(payload);
    // Only for tokens whose signature verified: forged tokens never cost a status request.
    if (!(await subjectStatus(viewer.userId))) throw unauthenticated('Invalid access token.');
    return viewer;
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

const SUBJECT_STATUS_STALE_MS = 5 * 60_000;

/**
 * Revocation by account: the auth service says whether a subject is still active. Answers are
 * cached per subject (and concurrent asks share one request); when the auth service cannot be
 * reached, an answer up to 5 minutes old is reused, and without one the token is refused (fails closed).
 */
function createSubjectStatusCheck(options: TokenVerifierOptions): (subject: string) => Promise<boolean> {
  const ttlMs = options.subjectStatusCacheMs ?? 5_000;
  const cache = new Map<string, { active: boolean; at: number }>();
  const inFlight = new Map<string, Promise<boolean>>();

  function baseUrl(): string | undefined {
    const configured = options.subjectStatusUrl;
    if (configured === false) return undefined;
    if (configured !== undefined) return typeof configured === 'function' ? configured() : configured;
    const jwksUrl = typeof options.jwksUrl === 'function' ? options.jwksUrl() : options.jwksUrl;
    return jwksUrl.endsWith('/.well-known/jwks.json') ? jwksUrl.replace(/jwks\.json$/, 'subject-status') : undefined;
  }

  async function ask(base: string, subject: string): Promise<boolean> {
    const response = await fetch(`${base}/${encodeURIComponent(subject)}`, { signal: AbortSignal.timeout(5_000) });
    // An issuer that does not publish subject status (404): nothing is revoked by account there.
    if (response.status === 404) return true;
    if (!response.ok) throw new Error(`subject status answered HTTP ${response.status}`);
    const body = (await response.json()) as { active?: unknown };
    if (typeof body.active !== 'boolean') throw new Error('subject status answer has no boolean "active"');
    return body.active;
  }

  return async (subject) => {
    const base = baseUrl();
    if (!base) return true;
    const cached = cache.get(subject);
    if (cached && Date.now() - cached.at < ttlMs) return cached.active;
    let pending = inFlight.get(subject);
    if (!pending) {
      // One more try after a failed ask: a service just (re)started has no cached answer, and one
      // reset connection or slow answer from a busy auth service must not refuse a valid token.
      pending = ask(base, subject)
        .catch(() => ask(base, subject))
        .finally(() => inFlight.delete(subject));
      inFlight.set(subject, pending);
    }
    try {
      const active = await pending;
      if (cache.size >= 10_000) cache.clear();
      cache.set(subject, { active, at: Date.now() });
      return active;
    } catch {
      if (cached && Date.now() - cached.at < SUBJECT_STATUS_STALE_MS) return cached.active;
      throw unauthenticated('Cannot check the access token right now; try again.');
    }
  };
}
