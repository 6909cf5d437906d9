import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MigrationError, openDatabase, startPGlite } from '../src/index';
import { createPGliteDatabase } from '../src/openDatabase';
import { BASE_MIGRATIONS, COLUMNS_QUERY, FIRST, PRISMA_MIGRATIONS_COLUMNS, ROWS_QUERY, SECOND, THIRD, writeMigrationsDir } from './helpers';

/** Each test gets its own in-memory PGlite (cloned from the cached empty cluster, ~0.4 s). */
async function openMemory(migrationsDir: string) {
  const client = await startPGlite();
  return { client, database: createPGliteDatabase(client, migrationsDir) };
}

describe('migrations on embedded PGlite', () => {
  test('a fresh database gets every migration, in order, recorded as Prisma records them', async () => {
    const dir = writeMigrationsDir(BASE_MIGRATIONS);
    const { client, database } = await openMemory(dir);
    try {
      expect(database.kind).toBe('pglite');
      expect(await database.migrate()).toEqual([FIRST, SECOND]);

      expect((await client.query(COLUMNS_QUERY)).rows).toEqual(PRISMA_MIGRATIONS_COLUMNS);
      const rows = (await client.query<Record<string, unknown>>(ROWS_QUERY)).rows;
      expect(rows).toHaveLength(2);
      for (const [index, name] of [FIRST, SECOND].entries()) {
        const row = rows[index]!;
        const bytes = readFileSync(path.join(dir, name, 'migration.sql'));
        expect(row.migration_name).toBe(name);
        expect(row.checksum).toBe(createHash('sha256').update(bytes).digest('hex'));
        expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(row.applied_steps_count).toBe(1);
        expect(row.logs).toBeNull();
        expect(row.rolled_back_at).toBeNull();
        expect(row.finished_at).toBeInstanceOf(Date);
        expect((row.finished_at as Date).getTime()).toBeGreaterThanOrEqual((row.started_at as Date).getTime());
      }
      await client.query(`INSERT INTO things (id, label) VALUES ('a', 'x')`);
    } finally {
      await database.close();
    }
  });

  test('re-running applies nothing, and a new folder is applied alone', async () => {
    const dir = writeMigrationsDir(BASE_MIGRATIONS);
    const { client, database } = await openMemory(dir);
    try {
      await database.migrate();
      expect(await database.migrate()).toEqual([]);
      writeMigrationsDir({ [THIRD]: 'ALTER TABLE "things" ADD COLUMN "size" INTEGER NOT NULL DEFAULT 0;' }, dir);
      expect(await database.migrate()).toEqual([THIRD]);
      expect((await client.query(`SELECT count(*)::int AS n FROM "_prisma_migrations"`)).rows).toEqual([{ n: 3 }]);
    } finally {
      await database.close();
    }
  });

  test('an applied migration whose file changed is refused, naming it, and nothing newer is applied', async () => {
    const dir = writeMigrationsDir(BASE_MIGRATIONS);
    const { client, database } = await openMemory(dir);
    try {
      await database.migrate();
      writeFileSync(path.join(dir, FIRST, 'migration.sql'), `${BASE_MIGRATIONS[FIRST]}-- edited\n`);
      writeMigrationsDir({ [THIRD]: 'CREATE TABLE "later" ("id" INTEGER);' }, dir);
      const error = await database.migrate().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(MigrationError);
      expect((error as MigrationError).migrationName).toBe(FIRST);
      expect((error as Error).message).toMatch(/20250101000000_first was modified after it was applied/);
      expect((await client.query(`SELECT to_regclass('later') AS t`)).rows).toEqual([{ t: null }]);
    } finally {
      await database.close();
    }
  });

  test('a failing migration is rolled back completely and the ones before it stay applied', async () => {
    const dir = writeMigrationsDir({
      ...BASE_MIGRATIONS,
      // The first statement succeeds, the second fails: the table must not survive.
      [THIRD]: 'CREATE TABLE "half" ("id" INTEGER);\nALTER TABLE "missing" ADD COLUMN "x" INTEGER;\n',
    });
    const { client, database } = await openMemory(dir);
    try {
      await expect(database.migrate()).rejects.toThrow(/Migration 20250103000000_third failed and was rolled back.*"missing"/s);
      expect((await client.query(`SELECT to_regclass('half') AS t`)).rows).toEqual([{ t: null }]);
      const names = (await client.query<{ migration_name: string }>(`SELECT migration_name FROM "_prisma_migrations" ORDER BY 1`)).rows;
      expect(names.map((row) => row.migration_name)).toEqual([FIRST, SECOND]);

      // After fixing the file, the next run applies it.
      writeFileSync(path.join(dir, THIRD, 'migration.sql'), 'CREATE TABLE "half" ("id" INTEGER);\n');
      expect(await database.migrate()).toEqual([THIRD]);
    } finally {
      await database.close();
    }
  });

  test('a migration Prisma recorded as failed blocks until resolved; rolled-back rows are ignored', async () => {
    const dir = writeMigrationsDir(BASE_MIGRATIONS);
    const { client, database } = await openMemory(dir);
    try {
      await database.migrate();
      writeMigrationsDir({ [THIRD]: 'CREATE TABLE "third" ("id" INTEGER);' }, dir);
      // What `prisma migrate deploy` leaves after a failure: a row without finished_at.
      await client.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, started_at, applied_steps_count)
         VALUES ('00000000-0000-4000-8000-000000000000', 'x', $1, 'boom', now(), 0)`,
        [THIRD],
      );
      await expect(database.migrate()).rejects.toThrow(/20250103000000_third is recorded as failed.*migrate resolve --rolled-back/s);

      await client.query(`UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = $1`, [THIRD]);
      expect(await database.migrate()).toEqual([THIRD]);
    } finally {
      await database.close();
    }
  });

  test('a dataDir database keeps its schema, data and history across restarts', async () => {
    const dataDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'meridian-db-test-')), 'nested', 'service');
    const dir = writeMigrationsDir(BASE_MIGRATIONS);
    try {
      const first = await openDatabase({ service: 'fixture', dataDir, migrationsDir: dir });
      expect(await first.migrate()).toEqual([FIRST, SECOND]);
      await first.close();

      const second = await openDatabase({ service: 'fixture', dataDir, migrationsDir: dir });
      try {
        expect(await second.migrate()).toEqual([]);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(path.dirname(path.dirname(dataDir)), { recursive: true, force: true });
    }
  });
});
