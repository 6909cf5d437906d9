import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AuthConfig } from './config';

/**
 * The AES-256 key for secrets at rest. AUTH_SECRETS_KEY when set (required in production);
 * otherwise, for development, a random key generated once and kept in `<DATA_DIR>/auth-secrets.key`
 * (mode 0600) next to the embedded databases, or only in memory when DATA_DIR is ":memory:".
 * Read lazily: a process that never touches MFA writes no file. Never logged.
 */
export function createSecretsKeyLoader(config: Pick<AuthConfig, 'secretsKey' | 'database'>): () => Buffer {
  let key = config.secretsKey;
  return () => {
    if (key) return key;
    const dataDir = config.database.dataDir;
    if (dataDir === undefined) return (key = randomBytes(32));
    const file = path.join(path.dirname(dataDir), 'auth-secrets.key');
    mkdirSync(path.dirname(file), { recursive: true });
    try {
      writeFileSync(file, randomBytes(32).toString('base64'), { flag: 'wx', mode: 0o600 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const stored = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (stored.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
    return (key = stored);
  };
}
