import { existsSync } from 'node:fs';
import path from 'node:path';

/** The repository root: the nearest directory up from `from` holding supergraph.yaml. */
export function findRepoRoot(from: string = __dirname): string {
  let dir = path.resolve(from);
  for (;;) {
    if (existsSync(path.join(dir, 'supergraph.yaml'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`No supergraph.yaml found above ${from}.`);
    dir = parent;
  }
}

export const SUPERGRAPH_FILE = 'supergraph.graphql';
export const SUPERGRAPH_CONFIG_FILE = 'supergraph.yaml';
