import { hash, verify, type Options } from '@node-rs/argon2';

/**
 * OWASP's minimum for argon2id (Password Storage Cheat Sheet): 19 MiB, 2 iterations, 1 lane.
 * `algorithm: 2` is Algorithm.Argon2id (a const enum, which isolated-module builds cannot import).
 */
export const ARGON2_OPTIONS: Options = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

// Verifying against this hash when the email is unknown makes both failures cost the same time.
let decoyHash: Promise<string> | undefined;

/** Checks a password; with no stored hash it still does the work, then answers false. */
export async function verifyPassword(storedHash: string | undefined, password: string): Promise<boolean> {
  if (storedHash === undefined) {
    decoyHash ??= hashPassword('decoy-password-that-never-matches');
    await verify(await decoyHash, password).catch(() => false);
    return false;
  }
  try {
    return await verify(storedHash, password);
  } catch {
    return false;
  }
}
