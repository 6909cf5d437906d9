import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { DiffParams, SchemaContainer, SchemaEngine } from '@prisma/schema-engine-wasm';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import type { PGliteClient } from './pglite';

type BindgenModule = typeof import('@prisma/schema-engine-wasm') & { __wbg_set_wasm(exports: unknown): void };

let bindgen: Promise<BindgenModule> | undefined;

/**
 * The schema engine ships as bundler-style ESM (`import * as wasm from "./x.wasm"`), which
 * Node cannot load as is. Load its JS glue with a real dynamic import (hidden in `new Function`
 * so SWC/Jest do not rewrite it to require(), which cannot load ESM under Jest), then instantiate
 * the wasm with the glue as its import object, as the bundler would.
 */
function loadSchemaEngineModule(): Promise<BindgenModule> {
  bindgen ??= (async () => {
    const gluePath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<BindgenModule>;
    const glue = await importModule(pathToFileURL(gluePath).href);
    const bytes = readFileSync(path.join(path.dirname(gluePath), 'schema_engine_bg.wasm'));
    const { instance } = await wasmApi().instantiate(bytes, { './schema_engine_bg.js': glue });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports as { __wbindgen_start(): void }).__wbindgen_start();
    return glue;
  })();
  return bindgen;
}

/** The one WebAssembly call needed; the repo's lib setting (no DOM) does not declare the global. */
function wasmApi(): { instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: unknown } }> } {
  return (globalThis as unknown as { WebAssembly: ReturnType<typeof wasmApi> }).WebAssembly;
}

const NO_FILTERS = { externalTables: [], externalEnums: [] };

/** What the engine reports for "nothing to do" in a diff script. */
const EMPTY_MIGRATION = /^\s*-- This is an empty migration\.\s*$/;

export interface SchemaDiff {
  /** True when the database already matches the schema. */
  empty: boolean;
  /** SQL that takes the database to the schema (Prisma Migrate's formatting). */
  script: string;
  /** Prisma's human-readable summary of the same changes. */
  summary: string;
}

/**
 * Diff a live PGlite database (introspected through the Prisma adapter) against a Prisma schema.
 * Introspection through the PGlite adapter works in the wasm engine; through adapter-pg it does not
 * (see the prisma-offline note), which is why callers replay migrations into PGlite first.
 */
export async function diffDatabaseToSchema(db: PGliteClient, schemaPath: string): Promise<SchemaDiff> {
  const files: SchemaContainer[] = [{ path: schemaPath, content: readFileSync(schemaPath, 'utf8') }];
  const glue = await loadSchemaEngineModule();
  const adapter = bindMigrationAwareSqlAdapterFactory(new PrismaPGlite(db));
  const engine: SchemaEngine = await glue.SchemaEngine.new(
    { datamodels: files.map((file) => [file.path, file.content]) },
    () => undefined,
    adapter,
  );
  try {
    const params = (script: boolean): DiffParams => ({
      from: { tag: 'schemaDatasource', files, configDir: path.dirname(schemaPath) },
      to: { tag: 'schemaDatamodel', files },
      script,
      exitCode: true,
      filters: NO_FILTERS,
    });
    const scriptResult = await engine.diff(params(true));
    const summaryResult = await engine.diff(params(false));
    const script = scriptResult.stdout ?? '';
    return {
      empty: scriptResult.exitCode === 0 || EMPTY_MIGRATION.test(script),
      script,
      summary: summaryResult.stdout ?? '',
    };
  } finally {
    engine.free();
  }
}
