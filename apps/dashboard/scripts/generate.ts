/**
 * Types every operation in src/graphql/*.graphql against the supergraph (GraphQL Code
 * Generator, run programmatically: its CLI is not a dependency) and writes typed document
 * nodes to src/generated/graphql.ts (not committed; `npm run generate` writes it).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { codegen } from '@graphql-codegen/core';
import * as typedDocumentNodePlugin from '@graphql-codegen/typed-document-node';
import * as typescriptOperationsPlugin from '@graphql-codegen/typescript-operations';
import { buildSchema, Kind, parse, printSchema, validate, type DocumentNode } from 'graphql';

const root = path.resolve(__dirname, '..');
const supergraphPath = path.resolve(root, '..', '..', 'supergraph.graphql');
const documentsDir = path.join(root, 'src', 'graphql');
const outputPath = path.join(root, 'src', 'generated', 'graphql.ts');

async function main() {
  // Operations only (typescript-operations writes the enums and inputs they use).
  // The supergraph's join__/link__ definitions come along; they are harmless to operation types.
  const schema = buildSchema(readFileSync(supergraphPath, 'utf8'), { assumeValidSDL: true });

  const documents = readdirSync(documentsDir)
    .filter((file) => file.endsWith('.graphql'))
    .sort()
    .map((file) => {
      const location = path.join(documentsDir, file);
      const document = parse(readFileSync(location, 'utf8'));
      return { location, document };
    });
  // Fail the build on an operation the API does not have, naming the file and the problem.
  const all: DocumentNode = { kind: Kind.DOCUMENT, definitions: documents.flatMap((d) => d.document.definitions) };
  const problems = validate(schema, all);
  if (problems.length) {
    throw new Error(`Operations do not match supergraph.graphql:\n${problems.map((p) => `  ${p.message}`).join('\n')}`);
  }

  const output = await codegen({
    filename: outputPath,
    schema: parse(printSchema(schema)),
    schemaAst: schema,
    documents,
    config: {
      enumsAsTypes: true,
      scalars: { DateTime: 'string' },
      avoidOptionals: { field: true, inputValue: false, object: false, defaultValue: false },
      useTypeImports: true,
      skipTypename: false,
      nonOptionalTypename: false,
      dedupeFragments: true,
    },
    plugins: [{ typescriptOperations: {} }, { typedDocumentNode: {} }],
    pluginMap: { typescriptOperations: typescriptOperationsPlugin, typedDocumentNode: typedDocumentNodePlugin },
  });
  mkdirSync(path.dirname(outputPath), { recursive: true });
  writeFileSync(outputPath, `/* Generated from supergraph.graphql and src/graphql/*.graphql by scripts/generate.ts. Do not edit. */\n/* eslint-disable */\n${output}`);
  console.log(`dashboard: ${documents.length} operation files typed -> ${path.relative(process.cwd(), outputPath)}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
