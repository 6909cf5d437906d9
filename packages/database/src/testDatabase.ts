import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assertServiceName } from './paths';
import { dropPostgresDatabase, ensurePostgresDatabase, parsePostgresUrl } from './postgres';

export interface CreateTestDatabaseOptions {
  /**
   * Admin URL of a PostgreSQL server to create the database on (e.g. postgresql://postgres@127.0.0.1:5432/postgres).
   * Defaults to env TEST_POSTGRES_URL; when neither is set, an embedded PGlite database is used.
   */
  adminUrl?: string;
  /** PGlite only: 'memory' (default, nothing on disk) or 'directory' (a fresh temp dir, removed by drop). */
  storage?: 'memory' | 'directory';
}

/** Pass databaseUrl/dataDir to openDatabase(); call drop() when the test file is done. */
export interface TestDatabase {
  kind: 'postgres' | 'pglite';
  databaseUrl?: string;
  dataDir?: string;
  drop(): Promise<void>;
}

/**
 * A database of its own for one test file: a uniquely named database on the PostgreSQL server of
 * TEST_POSTGRES_URL, or else embedded PGlite. Schema-less: openDatabase(...).migrate() sets it up.
 * With 'memory' each openDatabase() call gets its own empty database, so open it once per test file.
 */
export async function createTestDatabase(service: string, options: CreateTestDatabaseOptions = {}): Promise<TestDatabase> {
  assertServiceName(service);
  const adminUrl = options.adminUrl ?? (process.env.TEST_POSTGRES_URL || undefined);
  if (adminUrl !== undefined) {
    const admin = new URL(parsePostgresUrl(adminUrl, 'TEST_POSTGRES_URL').connectionString);
    // PostgreSQL folds and limits identifiers to 63 bytes; this stays well below.
    admin.pathname = `/test_${service.replace(/-/g, '_').slice(0, 30)}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
    const databaseUrl = admin.toString();
    await ensurePostgresDatabase(databaseUrl);
    let dropped = false;
    return {
      kind: 'postgres',
      databaseUrl,
      drop: async () => {
        if (dropped) return;
        dropped = true;
        await dropPostgresDatabase(databaseUrl);
      },
    };
  }
  if (options.storage === 'directory') {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), `meridian-${service}-`));
    return { kind: 'pglite', dataDir, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  return { kind: 'pglite', drop: async () => undefined };
}
