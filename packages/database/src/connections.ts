import type { Client } from 'pg';
import type { MigrationConnection } from './migrations';
import type { PGliteClient } from './pglite';

type PGliteQueryable = Pick<PGliteClient, 'query' | 'exec'>;

export function createPGliteMigrationConnection(db: PGliteClient): MigrationConnection {
  return wrapPGlite(db, (callback) => db.transaction((tx) => callback(wrapPGlite(tx))));
}

function wrapPGlite(
  db: PGliteQueryable,
  transaction?: <T>(callback: (connection: MigrationConnection) => Promise<T>) => Promise<T>,
): MigrationConnection {
  const connection: MigrationConnection = {
    async query<Row>(sql: string, params?: unknown[]) {
      return (await db.query<Row>(sql, params)).rows;
    },
    async exec(script: string) {
      await db.exec(script);
    },
    transaction: transaction ?? ((callback) => callback(connection)),
  };
  return connection;
}

/** A pg Client as a migration connection; transactions are plain BEGIN/COMMIT on that one session. */
export function createPgMigrationConnection(client: Client): MigrationConnection {
  const connection: MigrationConnection = {
    async query<Row>(sql: string, params?: unknown[]) {
      return (await client.query(sql, params)).rows as Row[];
    },
    async exec(script: string) {
      // No parameters -> simple query protocol, which accepts several statements.
      await client.query(script);
    },
    async transaction<T>(callback: (connection: MigrationConnection) => Promise<T>) {
      await client.query('BEGIN');
      try {
        const result = await callback(connection);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    },
  };
  return connection;
}
