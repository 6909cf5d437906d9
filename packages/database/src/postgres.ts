import pg from 'pg';

/** USER_DATABASE_URL for "user": the variable the CLI (and services' config) read a service's URL from. */
export function getDatabaseUrlVariable(service: string): string {
  return `${service.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_DATABASE_URL`;
}

export interface ParsedPostgresUrl {
  /** Connection string for `pg`, without Prisma's `schema` parameter (PostgreSQL would reject it). */
  connectionString: string;
  database: string;
  /** Prisma's `?schema=` parameter, if any. */
  schema?: string;
}

/**
 * Validate a PostgreSQL URL up front so a typo fails with a message naming its source
 * (`source` is e.g. the env var name) instead of a connection error later.
 */
export function parsePostgresUrl(url: string, source = 'databaseUrl'): ParsedPostgresUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`${source} is not a valid URL (expected postgresql://user:password@host:5432/database)`);
  }
  if (parsed.protocol !== 'postgresql:' && parsed.protocol !== 'postgres:') {
    throw new Error(`${source} must start with postgresql:// or postgres:// (got ${parsed.protocol}//)`);
  }
  if (!parsed.hostname) throw new Error(`${source} has no host (expected postgresql://user:password@host:5432/database)`);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!database || database.includes('/')) {
    throw new Error(`${source} must name exactly one database in its path (postgresql://host:5432/<database>)`);
  }
  const schema = parsed.searchParams.get('schema') ?? undefined;
  parsed.searchParams.delete('schema');
  return { connectionString: parsed.toString(), database, ...(schema ? { schema } : {}) };
}

/** The same server's `postgres` maintenance database, for CREATE/DROP DATABASE. */
export function getMaintenanceUrl(url: string): string {
  const parsed = new URL(parsePostgresUrl(url).connectionString);
  parsed.pathname = '/postgres';
  return parsed.toString();
}

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Create the database named in `url` unless it exists. Returns true when this call created it.
 * Safe to race: a concurrent creator's duplicate error counts as "exists".
 */
export async function ensurePostgresDatabase(url: string): Promise<boolean> {
  const { database } = parsePostgresUrl(url);
  const client = new pg.Client({ connectionString: getMaintenanceUrl(url) });
  await client.connect();
  try {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (existing.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${quoteIdentifier(database)}`);
      return true;
    } catch (error) {
      // 42P04 duplicate_database; 23505 when two CREATE DATABASE race on pg_database's unique index.
      const code = (error as { code?: string }).code;
      if (code === '42P04' || code === '23505') return false;
      throw error;
    }
  } finally {
    await client.end();
  }
}

/** Drop a database, first ending the sessions still connected to it (tests leave pools behind). */
export async function dropPostgresDatabase(url: string): Promise<void> {
  const { database } = parsePostgresUrl(url);
  const client = new pg.Client({ connectionString: getMaintenanceUrl(url) });
  await client.connect();
  try {
    await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [
      database,
    ]);
    try {
      // FORCE (PostgreSQL 13+) also ends sessions that reconnected since the terminate above.
      await client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(database)} WITH (FORCE)`);
    } catch (error) {
      if ((error as { code?: string }).code !== '42601') throw error;
      await client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(database)}`);
    }
  } finally {
    await client.end();
  }
}
