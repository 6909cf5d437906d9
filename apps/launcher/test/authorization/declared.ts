import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Kind, parse, print, type DocumentNode } from 'graphql';

export const SUPERGRAPH_PATH = path.join(__dirname, '../../../../supergraph.graphql');
export const MATRIX_DOC_PATH = path.join(__dirname, '../../../../docs/authorization-matrix.md');

export function readSupergraph(): DocumentNode {
  return parse(readFileSync(SUPERGRAPH_PATH, 'utf8'));
}

/** Every root field of the supergraph as `Type.field`. */
export function rootFields(document: DocumentNode): string[] {
  const fields: string[] = [];
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION) continue;
    const type = definition.name.value;
    if (type !== 'Query' && type !== 'Mutation' && type !== 'Subscription') continue;
    for (const field of definition.fields ?? []) fields.push(`${type}.${field.name.value}`);
  }
  return fields;
}

/** The authorization directives on each root field, as written in the supergraph. */
export function declaredDirectives(document: DocumentNode): Map<string, string> {
  const result = new Map<string, string>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION) continue;
    for (const field of definition.fields ?? []) {
      const used = (field.directives ?? []).filter((d) => ['authenticated', 'requiresScopes', 'policy'].includes(d.name.value));
      if (used.length) result.set(`${definition.name.value}.${field.name.value}`, used.map((d) => `\`${print(d)}\``).join(' '));
    }
  }
  return result;
}
