import { ROLES as AUTHORIZATION_ROLES, scopesForRoles } from '@meridian/authorization';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { ACCESS_TOKEN_ALGORITHM } from '@meridian/tokens';
import { systemClock, type Clock } from './clock';

export interface StoredKey {
  kid: string;
  publicJwk: Record<string, unknown>;
  privateKeyPem: string;
  createdAt: Date;
  /** From this time on the key signs (until a newer key is activated). */
  activatedAt: Date;
}

export interface SigningKeyStore {
  /** Keys not retired, the most recently activated first. */
  listActive(): Promise<StoredKey[]>;
  insert(key: StoredKey): Promise<void>;
  /** Marks keys retired: they leave the JWKS, so tokens they signed stop verifying. */
  retire(kids: string[], at: Date): Promise<void>;
}

export function generateSigningKey(now: Date = new Date()): StoredKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  const jwk = publicKey.export({ format: 'jwk' });
  return {
    kid,
    publicJwk: { ...jwk, kid, alg: ACCESS_TOKEN_ALGORITHM, use: 'sig' },
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    createdAt: now,
    activatedAt: now,
  };
}

export interface AccessTokenClaims {
  userId: string;
  sessionId: string;
  roles: string[];
}

export interface TokenIssuerOptions {
  issuer: string;
  audience: string;
  accessTokenTtlSeconds: number;
  /**
   * How long a superseded key still verifies (is in the JWKS). At least the access-token
   * lifetime, so every token it signed expires before it goes.
   */
  keyOverlapSeconds?: number;
  /** How long the signing key read from the database is reused before it is read again (another replica may have rotated). */
  keyCacheMs?: number;
  clock?: Clock;
}

/**
 * Signs access tokens with the most recently activated key and publishes the JWKS. Keys live
 * in the database, so every replica signs with the same key within `keyCacheMs` of a rotation
 * made anywhere; verifiers refetch the JWKS when they meet an unknown kid.
 */
export function createTokenIssuer(store: SigningKeyStore, options: TokenIssuerOptions) {
  const clock = options.clock ?? systemClock;
  const keyCacheMs = options.keyCacheMs ?? 10_000;
  const overlapMs = Math.max(options.keyOverlapSeconds ?? options.accessTokenTtlSeconds + 60, options.accessTokenTtlSeconds) * 1000;
  let cached: { key: StoredKey; readAt: number } | undefined;

  async function signingKey(): Promise<StoredKey> {
    const now = Date.now();
    if (cached && now - cached.readAt < keyCacheMs) return cached.key;
    const [newest] = await store.listActive();
    if (newest) {
      cached = { key: newest, readAt: now };
      return newest;
    }
    const created = generateSigningKey(clock.now());
    await store.insert(created);
    cached = { key: created, readAt: now };
    return created;
  }

  return {
    /** Creates the first key at start-up rather than on the first sign-in. */
    async init(): Promise<void> {
      await signingKey();
    },
    async jwks(): Promise<{ keys: Record<string, unknown>[] }> {
      return { keys: (await store.listActive()).map((key) => key.publicJwk) };
    },
    async sign(claims: AccessTokenClaims): Promise<{ token: string; expiresAt: Date; kid: string }> {
      const key = await signingKey();
      const now = Math.floor(Date.now() / 1000);
      const exp = now + options.accessTokenTtlSeconds;
      const token = jwt.sign(
        { roles: claims.roles, scope: scopesFor(claims.roles).join(' '), sid: claims.sessionId },
        key.privateKeyPem,
        {
          algorithm: ACCESS_TOKEN_ALGORITHM,
          keyid: key.kid,
          issuer: options.issuer,
          audience: options.audience,
          subject: claims.userId,
          jwtid: randomUUID(),
          expiresIn: options.accessTokenTtlSeconds,
          notBefore: 0,
        },
      );
      return { token, expiresAt: new Date(exp * 1000), kid: key.kid };
    },
    /**
     * Activates a new key: it signs from now on (here at once; on other replicas within
     * keyCacheMs), and the previous ones keep verifying until retireSupersededKeys retires them.
     */
    async rotate(): Promise<{ kid: string; previousKids: string[] }> {
      const previous = await store.listActive();
      const created = generateSigningKey(clock.now());
      await store.insert(created);
      cached = { key: created, readAt: Date.now() };
      return { kid: created.kid, previousKids: previous.map((key) => key.kid) };
    },
    /**
     * Retires every key superseded for longer than the overlap (run periodically by every
     * replica; idempotent). Returns the kids retired now.
     */
    async retireSupersededKeys(): Promise<string[]> {
      const keys = await store.listActive();
      const now = clock.now().getTime();
      const retiring: string[] = [];
      // keys[i] was superseded when keys[i - 1] (activated after it) was activated.
      for (let index = 1; index < keys.length; index += 1) {
        if (now - keys[index - 1]!.activatedAt.getTime() >= overlapMs) retiring.push(keys[index]!.kid);
      }
      if (retiring.length > 0) {
        await store.retire(retiring, clock.now());
        if (cached && retiring.includes(cached.key.kid)) cached = undefined;
      }
      return retiring;
    },
  };
}

export type TokenIssuer = ReturnType<typeof createTokenIssuer>;

export const ROLES: string[] = [...AUTHORIZATION_ROLES];

/** The role → scope table is shared with the `@requiresScopes` checks (packages/authorization). */
export function scopesFor(roles: string[]): string[] {
  return scopesForRoles(roles);
}
