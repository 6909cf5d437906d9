import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A throw-away migrations directory holding the given `name -> sql` folders. */
export function writeMigrationsDir(migrations: Record<string, string>, dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-migrations-'))): string {
  for (const [name, sql] of Object.entries(migrations)) {
    mkdirSync(path.join(dir, name), { recursive: true });
    writeFileSync(path.join(dir, name, 'migration.sql'), sql);
  }
  return dir;
}

export const FIRST = '20250101000000_first';
export const SECOND = '20250102000000_second';
export const THIRD = '20250103000000_third';

export const BASE_MIGRATIONS = {
  [FIRST]: 'CREATE TABLE "things" ("id" TEXT NOT NULL, CONSTRAINT "things_pkey" PRIMARY KEY ("id"));\n',
  [SECOND]: 'ALTER TABLE "things" ADD COLUMN "label" TEXT;\nCREATE INDEX "things_label_idx" ON "things"("label");\n',
};

/** Prisma Migrate's `_prisma_migrations` columns as information_schema shows them. */
export const PRISMA_MIGRATIONS_COLUMNS = [
  { column_name: 'id', data_type: 'character varying', is_nullable: 'NO', character_maximum_length: 36 },
  { column_name: 'checksum', data_type: 'character varying', is_nullable: 'NO', character_maximum_length: 64 },
  { column_name: 'finished_at', data_type: 'timestamp with time zone', is_nullable: 'YES', character_maximum_length: null },
  { column_name: 'migration_name', data_type: 'character varying', is_nullable: 'NO', character_maximum_length: 255 },
  { column_name: 'logs', data_type: 'text', is_nullable: 'YES', character_maximum_length: null },
  { column_name: 'rolled_back_at', data_type: 'timestamp with time zone', is_nullable: 'YES', character_maximum_length: null },
  { column_name: 'started_at', data_type: 'timestamp with time zone', is_nullable: 'NO', character_maximum_length: null },
  { column_name: 'applied_steps_count', data_type: 'integer', is_nullable: 'NO', character_maximum_length: null },
];

export const COLUMNS_QUERY = `SELECT column_name, data_type, is_nullable, character_maximum_length
  FROM information_schema.columns WHERE table_name = '_prisma_migrations' AND table_schema = current_schema()
  ORDER BY ordinal_position`;

export const ROWS_QUERY = `SELECT id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count
  FROM "_prisma_migrations" ORDER BY migration_name`;
