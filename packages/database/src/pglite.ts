import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PrismaPGlite } from 'pglite-prisma-adapter';

/** The PGlite client type the Prisma adapter was built against. */
export type PGliteClient = ConstructorParameters<typeof PrismaPGlite>[0];

interface PGliteOptions {
  dataDir?: string;
  loadDataDir?: Blob;
  relaxedDurability?: boolean;
}

interface PGliteModule {
  PGlite: new (options?: PGliteOptions) => PGliteClient;
}

interface LoadedPGlite {
  module: PGliteModule;
  version: string;
}

let loaded: LoadedPGlite | undefined;

/**
 * Load the very copy of @electric-sql/pglite that pglite-prisma-adapter resolves. The adapter maps
 * database errors to Prisma errors (unique violation -> P2002, ...) with `instanceof` against its own
 * copy, so an instance from another copy would surface raw errors. Two copies can be installed at
 * once (npm nests ours when versions differ), and their data directories are not compatible either
 * (different PostgreSQL majors), so everything in this package goes through this one.
 */
export function loadPGlite(): LoadedPGlite {
  if (loaded) return loaded;
  const adapterDir = path.dirname(require.resolve('pglite-prisma-adapter'));
  const entry = require.resolve('@electric-sql/pglite', { paths: [adapterDir] });
  const module = require(entry) as PGliteModule;
  loaded = { module, version: readPackageVersion(entry) };
  return loaded;
}

function readPackageVersion(entry: string): string {
  for (let dir = path.dirname(entry); path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (parsed.name === '@electric-sql/pglite' && parsed.version) return parsed.version;
  }
  return 'unknown';
}

export interface StartPGliteOptions {
  /** Directory of a persistent database (created if missing); undefined = in memory. */
  dataDir?: string;
  /**
   * Start a brand-new database from a cached copy of a freshly initialised cluster instead of
   * running initdb (measured ~1.0-1.5 s -> ~0.35-0.55 s). Default true.
   */
  useTemplate?: boolean;
}

/** Start PGlite; a new database (in memory or an empty dataDir) is cloned from the template. */
export async function startPGlite(options: StartPGliteOptions = {}): Promise<PGliteClient> {
  const { module, version } = loadPGlite();
  const { dataDir, useTemplate = true } = options;
  const isNew = dataDir === undefined || !existsSync(path.join(dataDir, 'PG_VERSION'));
  if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true });
  // The adapter only ever talks to this instance in-process, so there is nothing to gain from
  // waiting for flushes of an in-memory database.
  const base: PGliteOptions = { ...(dataDir === undefined ? { relaxedDurability: true } : { dataDir }) };

  if (isNew && useTemplate) {
    const template = readTemplate(version);
    if (template) {
      try {
        const db = new module.PGlite({ ...base, loadDataDir: template });
        await db.waitReady;
        return db;
      } catch {
        // A truncated or stale cache file: forget it and fall back to initdb below.
        rmSync(getTemplatePath(version), { force: true });
        if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
        if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true });
      }
    }
  }

  const db = new module.PGlite(base);
  try {
    await db.waitReady;
  } catch (error) {
    throw new Error(
      `Cannot open the embedded database${dataDir ? ` in ${dataDir}` : ''} with PGlite ${version}` +
        (dataDir ? ' (a directory written by another PGlite/PostgreSQL major cannot be opened: move it away to start afresh)' : '') +
        `: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  if (isNew && useTemplate) await writeTemplate(db, version);
  return db;
}

function getTemplatePath(version: string): string {
  return path.join(os.tmpdir(), 'meridian-pglite-templates', `empty-cluster-${version}.tar`);
}

function readTemplate(version: string): Blob | undefined {
  const file = getTemplatePath(version);
  if (!existsSync(file)) return undefined;
  return new Blob([readFileSync(file)]);
}

/** Dump the just-initialised cluster; write-then-rename so parallel Jest workers never read half a file. */
async function writeTemplate(db: PGliteClient, version: string): Promise<void> {
  try {
    const file = getTemplatePath(version);
    const dump = await db.dumpDataDir('none');
    mkdirSync(path.dirname(file), { recursive: true });
    const temporary = `${file}.${randomUUID()}.tmp`;
    writeFileSync(temporary, Buffer.from(await dump.arrayBuffer()));
    renameSync(temporary, file);
  } catch {
    // The template is only a speed-up; an unwritable tmp dir must not break startup.
  }
}
