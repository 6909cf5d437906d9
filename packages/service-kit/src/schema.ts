import { readFileSync } from 'node:fs';
import { parse, type DocumentNode } from 'graphql';

/** Reads an SDL file (the subgraph's single source of truth) at start-up. */
export function readSchema(path: string): DocumentNode {
  return parse(readFileSync(path, 'utf8'));
}
