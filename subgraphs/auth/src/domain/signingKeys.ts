import { generateKeyPairSync, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { ACCESS_TOKEN_ALGORITHM } from '@meridian/tokens';

export interface StoredKey {
  kid: string;
  publicJwk: Record<string, unknown>;
  privateKeyPem: string;
  createdAt: Date;
}

export interface SigningKeyStore {
  /** Keys not retired, newest first. */
  listActive(): Promise<StoredKey[]>;
  insert(key: StoredKey): Promise<void>;
}

export function generateSigningKey(): StoredKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  const jwk = publicKey.export({ format: 'jwk' });
  return {
    kid,
    publicJwk: { ...jwk, kid, alg: ACCESS_TOKEN_ALGORITHM, use: 'sig' },
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    createdAt: new Date(),
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
}

/** Signs access tokens with the newest key and publishes the JWKS. */
export function createTokenIssuer(store: SigningKeyStore, options: TokenIssuerOptions) {
  let current: StoredKey | undefined;

  async function signingKey(): Promise<StoredKey> {
    if (current) return current;
    const [newest] = await store.listActive();
    if (newest) return (current = newest);
    const created = generateSigningKey();
    await store.insert(created);
    return (current = created);
  }

  return {
    /** Creates the first key at start-up rather than on the first sign-in. */
    async init(): Promise<void> {
      await signingKey();
    },
    async jwks(): Promise<{ keys: Record<string, unknown>[] }> {
      return { keys: (await store.listActive()).map((key) => key.publicJwk) };
    },
    async sign(claims: AccessTokenClaims): Promise<{ token: string; expiresAt: Date }> {
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
      return { token, expiresAt: new Date(exp * 1000) };
    },
  };
}

export type TokenIssuer = ReturnType<typeof createTokenIssuer>;

const ROLE_SCOPES: Record<string, string[]> = {
  ADMIN: ['tasks:read', 'tasks:write', 'users:read', 'users:admin'],
  MEMBER: ['tasks:read', 'tasks:write', 'users:read'],
  VIEWER: ['tasks:read', 'users:read'],
};

export function scopesFor(roles: string[]): string[] {
  return [...new Set(roles.flatMap((role) => ROLE_SCOPES[role] ?? []))].sort();
}
