import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { codegen } from '@graphql-codegen/core';
import * as typescriptPlugin from '@graphql-codegen/typescript';
import * as resolversPlugin from '@graphql-codegen/typescript-resolvers';
import { buildASTSchema, Kind, parse, type DocumentNode } from 'graphql';

export interface GenerateOptions {
  schemaPath: string;
  outputPath: string;
  /** Module path relative to the output file, e.g. "../context#Context". */
  contextType: string;
  /** GraphQL type name -> "module#Type" relative to the output file. */
  mappers: Record<string, string>;
}

/** Writes resolver types for a federation subgraph SDL; returns the output path. */
export async function generateResolverTypes(options: GenerateOptions): Promise<string> {
  const sdl = readFileSync(options.schemaPath, 'utf8');
  // Building the subgraph schema resolves the federation @link imports into real directive definitions.
  const document = withFederationDirectives(parse(sdl));
  const schema = buildASTSchema(document, { assumeValidSDL: true });
  const config = {
    federation: true,
    contextType: options.contextType,
    mappers: options.mappers,
    useIndexSignature: false,
    enumsAsTypes: true,
    defaultScalarType: 'unknown',
    scalars: { DateTime: 'Date | string', JSON: 'unknown' },
    avoidOptionals: { field: true, inputValue: false, object: false, defaultValue: false },
  };
  const result = await codegen({
    filename: options.outputPath,
    schema: document,
    schemaAst: schema,
    documents: [],
    config,
    plugins: [{ typescript: {} }, { typescriptResolvers: {} }],
    pluginMap: { typescript: typescriptPlugin, typescriptResolvers: resolversPlugin },
  });
  mkdirSync(path.dirname(options.outputPath), { recursive: true });
  writeFileSync(options.outputPath, `/* Generated from ${path.basename(options.schemaPath)} by meridian-codegen. Do not edit. */\n/* eslint-disable */\n${result}`);
  return options.outputPath;
}

// Definitions of the federation directives, so the SDL builds as a plain schema and the resolvers
// plugin sees @key on entity types (it then types __resolveReference).
const FEDERATION_PRELUDE = parse(`
  scalar FieldSet
  directive @key(fields: FieldSet!, resolvable: Boolean = true) repeatable on OBJECT | INTERFACE
  directive @shareable repeatable on OBJECT | FIELD_DEFINITION
  directive @external on OBJECT | FIELD_DEFINITION
  directive @requires(fields: FieldSet!) on FIELD_DEFINITION
  directive @provides(fields: FieldSet!) on FIELD_DEFINITION
  directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ENUM | ENUM_VALUE | SCALAR | INPUT_OBJECT | INPUT_FIELD_DEFINITION | ARGUMENT_DEFINITION
  directive @override(from: String!, label: String) on FIELD_DEFINITION
  directive @tag(name: String!) repeatable on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION
  directive @interfaceObject on OBJECT
`);

function withFederationDirectives(document: DocumentNode): DocumentNode {
  return {
    ...document,
    definitions: [
      ...FEDERATION_PRELUDE.definitions,
      // `extend schema @link(...)` only matters to composition.
      ...document.definitions.filter((def) => def.kind !== Kind.SCHEMA_EXTENSION),
    ],
  };
}
