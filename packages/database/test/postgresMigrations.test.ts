import { createHash } from 'node:crypto';
import path from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { createTestDatabase, MigrationError, openDatabase, type TestDatabase } from '../src/index';
import { runCli } from '../src/cli';
import { BASE_MIGRATIONS, COLUMNS_QUERY, FIRST, PRISMA_MIGRATIONS_COLUMNS, ROWS_QUERY, SECOND, THIRD, writeMigrationsDir } from './helpers';

// Runs whenever TEST_POSTGRES_URL is set (CI and dev machines); skipped only without it.
const adminUrl = process.env.TEST_POSTGRES_URL;
const describePostgres = adminUrl ? describe : describe.skip;

async function query<Row>(databaseUrl: string, sql: string, params?: unknown[]): Promise<Row[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as Row[];
  } finally {
    await client.end();
  }
}

describePostgres('migrations on PostgreSQL', () => {
  const created: TestDatabase[] = [];
  async function freshDatabase(): Promise<string> {
    const testDatabase = await createTestDatabase('fixture', { adminUrl: adminUrl! });
    created.push(testDatabase);
    return testDatabase.databaseUrl!;
  }
  afterAll(async () => {
    for (const testDatabase of created) await testDatabase.drop();
  });

  test('fresh apply, idempotent re-apply and Prisma-compatible rows', async () => {
    const databaseUrl = await freshDatabase();
    const dir = writeMigrationsDir(BASE_MIGRATIONS);
    const database = await openDatabase({ service: 'fixture', databaseUrl, migrationsDir: dir });
    expect(database.kind).toBe('postgres');
    expect(await database.migrate()).toEqual([FIRST, SECOND]);
    expect(await database.migrate()).toEqual([]);
    await database.close();

    expect(await query(databaseUrl, COLUMNS_QUERY)).toEqual(PRISMA_MIGRATIONS_COLUMNS);
    const rows = await query<Record<string, unknown>>(databaseUrl, ROWS_QUERY);
    expect(rows.map((row) => [row.migration_name, row.checksum, row.applied_steps_count, row.logs, row.rolled_back_at])).toEqual(
      [FIRST, SECOND].map((name) => [
        name,
        createHash('sha256').update(readFileSync(path.join(dir, name, 'migration.sql'))).digest('hex'),
        1,
        null,
        null,
      ]),
    );
    expect(rows.every((row) => row.finished_at instanceof Date)).toBe(true);
  });

  test('replicas migrating at the same time apply each migration exactly once', async () => {
    const databaseUrl = await freshDatabase();
    // A slow first migration keeps the lock held while the others queue behind it.
    const dir = writeMigrationsDir({ ...BASE_MIGRATIONS, [FIRST]: `SELECT pg_sleep(0.3);\n${BASE_MIGRATIONS[FIRST]}` });
    const replicas = await Promise.all(
      Array.from({ length: 4 }, () => openDatabase({ service: 'fixture', databaseUrl, migrationsDir: dir })),
    );
    const results = await Promise.all(replicas.map((replica) => replica.migrate()));
    await Promise.all(replicas.map((replica) => replica.close()));

    expect(results.flat().sort()).toEqual([FIRST, SECOND]);
    expect(results.filter((names) => names.length > 0)).toHaveLength(1);
    const rows = await query<{ migration_name: string }>(databaseUrl, 'SELECT migration_name FROM "_prisma_migrations" ORDER BY 1');
    expect(rows.map((row) => row.migration_name)).toEqual([FIRST, SECOND]);
  });

  test('checksum mismatch and failing migrations are refused without partial changes', async () => {
    const databaseUrl = await freshDatabase();
    const dir = writeMigrationsDir(BASE_MIGRATIONS);
    const database = await openDatabase({ service: 'fixture', databaseUrl, migrationsDir: dir });
    await database.migrate();

    writeMigrationsDir({ [THIRD]: 'CREATE TABLE "half" ("id" INTEGER);\nSELECT 1/0;\n' }, dir);
    await expect(database.migrate()).rejects.toThrow(/Migration 20250103000000_third failed and was rolled back.*division by zero/s);
    expect(await query(databaseUrl, `SELECT to_regclass('half') AS t`)).toEqual([{ t: null }]);
    expect(await query(databaseUrl, `SELECT count(*)::int AS n FROM "_prisma_migrations"`)).toEqual([{ n: 2 }]);

    writeFileSync(path.join(dir, SECOND, 'migration.sql'), '-- rewritten\n');
    const error = await database.migrate().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).migrationName).toBe(SECOND);
  });

  test('the CLI creates a missing database and migrates it from <SERVICE>_DATABASE_URL', async () => {
    const testDatabase = await createTestDatabase('user', { adminUrl: adminUrl! });
    created.push(testDatabase);
    await testDatabase.drop(); // the CLI must create it again
    const lines: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
    try {
      expect(await runCli(['migrate', 'user'], { USER_DATABASE_URL: testDatabase.databaseUrl })).toBe(0);
    } finally {
      log.mockRestore();
    }
    const output = lines.join('\n');
    expect(output).toMatch(/user: created database test_user_/);
    expect(await query(testDatabase.databaseUrl!, `SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS ok`)).toEqual([{ ok: true }]);
  });

  test('createTestDatabase drops its database even with connections still open', async () => {
    const testDatabase = await createTestDatabase('fixture', { adminUrl: adminUrl! });
    const client = new pg.Client({ connectionString: testDatabase.databaseUrl });
    await client.connect();
    client.on('error', () => undefined); // it is about to be terminated
    await testDatabase.drop();
    const name = new URL(testDatabase.databaseUrl!).pathname.slice(1);
    expect(await query(adminUrl!, 'SELECT datname FROM pg_database WHERE datname = $1', [name])).toEqual([]);
    await client.end().catch(() => undefined);
  });
});

describe('PostgreSQL configuration errors', () => {
  test('a malformed <SERVICE>_DATABASE_URL is reported by name before anything runs', async () => {
    await expect(runCli(['migrate', 'user'], { USER_DATABASE_URL: 'localhost:5432/user' })).rejects.toThrow(
      /USER_DATABASE_URL must start with postgresql:\/\//,
    );
    await expect(runCli(['migrate', 'user'], { USER_DATABASE_URL: 'postgresql://127.0.0.1:5432' })).rejects.toThrow(
      /USER_DATABASE_URL must name exactly one database/,
    );
    await expect(runCli(['migrate', 'user'], { USER_DATABASE_URL: 'not a url' })).rejects.toThrow(/USER_DATABASE_URL is not a valid URL/);
  });
});
