import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { createPgMigrationConnection, createPGliteMigrationConnection } from './connections';
import { applyMigrations, readMigrations } from './migrations';
import { getDefaultMigrationsDir, assertServiceName } from './paths';
import { parsePostgresUrl } from './postgres';
import { startPGlite, type PGliteClient } from './pglite';

export interface OpenDatabaseOptions {
  /** Service name: picks `prisma/<service>/migrations` by default. */
  service: string;
  /** PostgreSQL URL; when set, PostgreSQL through @prisma/adapter-pg, otherwise embedded PGlite. */
  databaseUrl?: string;
  /** PGlite data directory (created if missing, kept across restarts); undefined = in memory. Ignored with databaseUrl. */
  dataDir?: string;
  /** Defaults to `<repo>/prisma/<service>/migrations`. */
  migrationsDir?: string;
}

/** Driver adapter factory to hand to `new PrismaClient({ adapter })`. */
export type DatabaseAdapter = PrismaPg | PrismaPGlite;

export interface Database {
  kind: 'postgres' | 'pglite';
  adapter: DatabaseAdapter;
  /** Apply pending migrations; returns the names applied by this call (empty when up to date). */
  migrate(): Promise<string[]>;
  /** Release what openDatabase opened (the PGlite instance). Disconnect PrismaClients first. */
  close(): Promise<void>;
  /** Connection pool figures for metrics (PostgreSQL); undefined for PGlite (one in-process connection). */
  poolStats(): { total: number; idle: number; waiting: number } | undefined;
}

/**
 * Same key as Prisma Migrate's own advisory lock, so this runner, its other replicas and
 * `prisma migrate deploy` all exclude each other.
 */
const MIGRATION_LOCK_KEY = 72707369;

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  assertServiceName(options.service);
  const migrationsDir = options.migrationsDir ?? getDefaultMigrationsDir(options.service);
  if (options.databaseUrl !== undefined) return openPostgres(options.databaseUrl, migrationsDir);
  const db = await startPGlite(options.dataDir === undefined ? {} : { dataDir: options.dataDir });
  return createPGliteDatabase(db, migrationsDir);
}

function openPostgres(databaseUrl: string, migrationsDir: string): Database {
  const { connectionString, schema } = parsePostgresUrl(databaseUrl);
  // Our own pool (so its figures can be read for metrics), handed over to PrismaClient: it ends on $disconnect().
  const pool = new pg.Pool({ connectionString });
  return {
    kind: 'postgres',
    adapter: new PrismaPg(pool, { ...(schema ? { schema } : {}), disposeExternalPool: true }),
    migrate: () => migratePostgres(connectionString, migrationsDir, schema),
    close: async () => undefined,
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
  };
}

/** Wrap an already started PGlite; exported for tests and tools that manage the instance themselves. */
export function createPGliteDatabase(db: PGliteClient, migrationsDir: string): Database {
  let closed = false;
  return {
    kind: 'pglite',
    // The adapter and the runner share this instance: PGlite is single-connection and in-process.
    adapter: new PrismaPGlite(db),
    migrate: () => applyMigrations(createPGliteMigrationConnection(db), readMigrations(migrationsDir)),
    close: async () => {
      if (closed) return;
      closed = true;
      await db.close();
    },
    poolStats: () => undefined,
  };
}

async function migratePostgres(connectionString: string, migrationsDir: string, schema?: string): Promise<string[]> {
  // Read the files before taking the lock, so a broken folder never holds other replicas up.
  const migrations = readMigrations(migrationsDir);
  const client = new pg.Client({ connectionString, ...(schema ? { options: `-c search_path=${schema}` } : {}) });
  await client.connect();
  try {
    if (schema) await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema.replace(/"/g, '""')}"`);
    // Session-level lock: the other replicas wait here, then find the rows this one wrote.
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      return await applyMigrations(createPgMigrationConnection(client), migrations);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    await client.end();
  }
}
