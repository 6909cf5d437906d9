/** @meridian/database: per-service databases (PostgreSQL or embedded PGlite) and their Prisma Migrate migrations. */
export { openDatabase, createPGliteDatabase } from './openDatabase';
export type { Database, DatabaseAdapter, OpenDatabaseOptions } from './openDatabase';
export { applyMigrations, readMigrations, MigrationError } from './migrations';
export type { MigrationConnection, MigrationFile } from './migrations';
export { checkMigrationDrift, createMigration } from './drift';
export type { CreateMigrationOptions, CreateMigrationResult, DriftReport, SchemaLocation } from './drift';
export { createTestDatabase } from './testDatabase';
export type { CreateTestDatabaseOptions, TestDatabase } from './testDatabase';
export { startPGlite } from './pglite';
export type { PGliteClient, StartPGliteOptions } from './pglite';
export { ensurePostgresDatabase, dropPostgresDatabase, getDatabaseUrlVariable, parsePostgresUrl } from './postgres';
export { getDefaultDataDir, getDefaultMigrationsDir, getDefaultSchemaPath, getRepoRoot, listServices } from './paths';
