/**
 * `npm run compose`            writes supergraph.graphql from supergraph.yaml
 * `npm run compose -- --check` fails when the committed supergraph.graphql is out of date
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readSupergraphConfig } from './config';
import { composeSupergraph } from './compose';
import { findRepoRoot } from './paths';

const root = findRepoRoot();
const config = readSupergraphConfig(path.join(root, 'supergraph.yaml'));
const outPath = path.join(root, 'supergraph.graphql');
const outcome = composeSupergraph(config);
if (!outcome.ok) {
  console.error(`Composition failed with ${outcome.errors.length} error(s):\n${outcome.errors.map((e) => `  - ${e}`).join('\n')}`);
  process.exit(1);
}
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(outPath, 'utf8');
  } catch {
    /* missing counts as drift */
  }
  if (current !== outcome.supergraphSdl) {
    console.error('supergraph.graphql is out of date with the subgraph SDLs: run `npm run compose` and commit it.');
    process.exit(1);
  }
  console.log('supergraph.graphql is up to date.');
} else {
  writeFileSync(outPath, outcome.supergraphSdl);
  console.log(`Composed ${config.subgraphs.length} subgraphs into ${path.relative(process.cwd(), outPath) || outPath}.`);
}
