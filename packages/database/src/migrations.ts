import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** One folder of a Prisma Migrate migrations directory. */
export interface MigrationFile {
  name: string;
  sql: string;
  /** sha256 hex of migration.sql as stored on disk: what Prisma writes to `_prisma_migrations.checksum`. */
  checksum: string;
}

/** Thrown when migrations cannot be applied; `migrationName` says which one. */
export class MigrationError extends Error {
  constructor(
    message: string,
    readonly migrationName: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

/** Folders of `migrationsDir` in name order (timestamps first, as Prisma sorts them). Missing dir = no migrations. */
export function readMigrations(migrationsDir: string): MigrationFile[] {
  if (!existsSync(migrationsDir)) return [];
  return readdirSync(migrationsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const file = path.join(migrationsDir, name, 'migration.sql');
      if (!existsSync(file)) throw new MigrationError(`Migration ${name} has no migration.sql (${file})`, name);
      const bytes = readFileSync(file);
      return { name, sql: bytes.toString('utf8'), checksum: createHash('sha256').update(bytes).digest('hex') };
    });
}

/**
 * The minimum a connection must offer the runner. `exec` runs a multi-statement script,
 * `query` one parameterised statement; `transaction` gives a connection inside BEGIN..COMMIT
 * that rolls back when the callback throws.
 */
export interface MigrationConnection {
  query<Row>(sql: string, params?: unknown[]): Promise<Row[]>;
  exec(script: string): Promise<void>;
  transaction<T>(callback: (connection: MigrationConnection) => Promise<T>): Promise<T>;
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | string | null;
  rolled_back_at: Date | string | null;
  logs: string | null;
}

/** Same DDL as Prisma Migrate's, so `prisma migrate status|deploy` can read and extend the table. */
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/**
 * Apply the migrations not yet recorded in `_prisma_migrations`, in order, each in its own
 * transaction together with its row, so a failure leaves neither schema changes nor a row behind.
 * Callers that may race (several replicas) must hold a lock around this call.
 * Returns the names applied by this call.
 */
export async function applyMigrations(connection: MigrationConnection, migrations: MigrationFile[]): Promise<string[]> {
  await connection.exec(CREATE_MIGRATIONS_TABLE);
  const rows = await connection.query<AppliedRow>(
    `SELECT migration_name, checksum, finished_at, rolled_back_at, logs FROM "_prisma_migrations" ORDER BY started_at`,
  );
  // Rows marked rolled back (`prisma migrate resolve --rolled-back`) are history only, as in Prisma.
  const live = rows.filter((row) => row.rolled_back_at === null);

  const failed = live.find((row) => row.finished_at === null);
  if (failed) {
    throw new MigrationError(
      `Migration ${failed.migration_name} is recorded as failed in _prisma_migrations` +
        `${failed.logs ? ` (${firstLine(failed.logs)})` : ''}; fix the database, then mark it with ` +
        `\`prisma migrate resolve --rolled-back ${failed.migration_name}\` or delete its row`,
      failed.migration_name,
    );
  }

  const applied = new Map(live.map((row) => [row.migration_name, row.checksum]));
  for (const migration of migrations) {
    const checksum = applied.get(migration.name);
    if (checksum !== undefined && checksum !== migration.checksum) {
      throw new MigrationError(
        `Migration ${migration.name} was modified after it was applied (checksum ${migration.checksum} on disk, ` +
          `${checksum} in the database). Never edit an applied migration: restore the file and add a new migration.`,
        migration.name,
      );
    }
  }

  const appliedNow: string[] = [];
  for (const migration of migrations) {
    if (applied.has(migration.name)) continue;
    try {
      await connection.transaction(async (tx) => {
        const startedAt = await tx.query<{ now: Date | string }>('SELECT clock_timestamp() AS now');
        await tx.exec(migration.sql);
        // started_at/finished_at/applied_steps_count as Prisma records a PostgreSQL migration (one script = one step).
        await tx.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
           VALUES ($1, $2, clock_timestamp(), $3, NULL, NULL, $4, 1)`,
          [randomUUID(), migration.checksum, migration.name, startedAt[0]?.now],
        );
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new MigrationError(
        `Migration ${migration.name} failed and was rolled back (nothing of it is applied): ${reason}`,
        migration.name,
        { cause: error },
      );
    }
    appliedNow.push(migration.name);
  }
  return appliedNow;
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}
