import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkMigrationDrift, createMigration } from '../src/index';

const FIXTURE_SCHEMA = path.join(__dirname, 'fixtures', 'schema.prisma');

/** A copy of the fixture schema in a temp dir, with an empty migrations folder next to it. */
function tempService() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-drift-'));
  const schemaPath = path.join(dir, 'schema.prisma');
  copyFileSync(FIXTURE_SCHEMA, schemaPath);
  return { schemaPath, migrationsDir: path.join(dir, 'migrations') };
}

describe('drift check and migration authoring', () => {
  test('a schema with no migrations drifts; the initial migration then makes it agree', async () => {
    const location = tempService();
    const before = await checkMigrationDrift('fixture', location);
    expect(before.ok).toBe(false);
    expect(before.differences.join('\n')).toMatch(/Added tables[\s\S]*notes[\s\S]*comments/);

    const result = await createMigration('fixture', 'Init schema', { ...location, now: new Date('2025-03-04T05:06:07Z') });
    expect(result).toMatchObject({ created: true, migrationName: '20250304050607_init_schema' });
    const sql = readFileSync(path.join(location.migrationsDir, '20250304050607_init_schema', 'migration.sql'), 'utf8');
    expect(sql).toContain('CREATE TABLE "notes"');
    expect(sql).toContain(`CREATE TYPE "NoteStatus" AS ENUM ('DRAFT', 'PUBLISHED')`);
    expect(readFileSync(path.join(location.migrationsDir, 'migration_lock.toml'), 'utf8')).toContain('provider = "postgresql"');

    expect(await checkMigrationDrift('fixture', location)).toEqual({ ok: true, differences: [] });
    expect(await createMigration('fixture', 'nothing', location)).toEqual({ created: false });
    expect(readdirSync(location.migrationsDir).sort()).toEqual(['20250304050607_init_schema', 'migration_lock.toml']);
  });

  test('a schema change without a migration is caught, and the next migration holds only that change', async () => {
    const location = tempService();
    await createMigration('fixture', 'init', { ...location, now: new Date('2025-01-01T00:00:00Z') });
    const schema = readFileSync(location.schemaPath, 'utf8')
      .replace('  body   String\n', '  body   String\n  author String? @db.VarChar(80)\n')
      .replace('  PUBLISHED\n', '  PUBLISHED\n  ARCHIVED\n');
    writeFileSync(location.schemaPath, schema);

    const report = await checkMigrationDrift('fixture', location);
    expect(report.ok).toBe(false);
    const text = report.differences.join('\n');
    expect(text).toMatch(/Changed the `comments` table[\s\S]*Added column `author`/);
    expect(text).toMatch(/Changed the `NoteStatus` enum[\s\S]*ARCHIVED/);

    const next = await createMigration('fixture', 'author', { ...location, now: new Date('2025-01-02T00:00:00Z') });
    if (!next.created) throw new Error('expected a migration');
    expect(next.sql).toMatch(/ALTER TABLE "comments" ADD COLUMN\s+"author" VARCHAR\(80\)/);
    expect(next.sql).toMatch(/ALTER TYPE "NoteStatus" ADD VALUE 'ARCHIVED'/);
    expect(next.sql).not.toContain('CREATE TABLE');
    expect(await checkMigrationDrift('fixture', location)).toEqual({ ok: true, differences: [] });
  });

  test('a migration edited by hand so it no longer matches the schema is drift', async () => {
    const location = tempService();
    const created = await createMigration('fixture', 'init', location);
    if (!created.created) throw new Error('expected a migration');
    writeFileSync(path.join(created.migrationPath, 'migration.sql'), created.sql.replace(/CREATE INDEX "comments_note_id_idx".*\n/, ''));
    const report = await checkMigrationDrift('fixture', location);
    expect(report.ok).toBe(false);
    expect(report.differences.join('\n')).toMatch(/Changed the `comments` table[\s\S]*Added index on columns \(note_id\)/);
  });

  test('a migration that does not even run is reported as drift naming it', async () => {
    const location = tempService();
    const created = await createMigration('fixture', 'init', location);
    if (!created.created) throw new Error('expected a migration');
    writeFileSync(path.join(created.migrationPath, 'migration.sql'), 'CREATE TABLE oops (;');
    const report = await checkMigrationDrift('fixture', location);
    expect(report.ok).toBe(false);
    expect(report.differences[0]).toContain(created.migrationName);
  });

  test('the committed test fixture migrations match the fixture schema', async () => {
    expect(
      await checkMigrationDrift('fixture', { schemaPath: FIXTURE_SCHEMA, migrationsDir: path.join(__dirname, 'fixtures', 'migrations') }),
    ).toEqual({ ok: true, differences: [] });
  });
});
