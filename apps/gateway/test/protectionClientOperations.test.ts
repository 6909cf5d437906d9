import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Kind, parse, print, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { findRepoRoot } from '@meridian/composition';
import { createOperationLimiter } from '../src/protection/limits';
import { createSubscriptionPlanner } from '../src/subscriptions/planner';

/**
 * The limits must let our own product through: every operation the dashboard sends (with the
 * fragments it uses, as Apollo Client sends them) passes the default limits.
 */
describe('default operation limits and the dashboard', () => {
  const root = findRepoRoot(__dirname);
  const sdl = readFileSync(path.join(root, 'supergraph.graphql'), 'utf8');
  const planner = createSubscriptionPlanner(sdl);
  const limiter = createOperationLimiter({ schema: () => planner.schema, supergraphSdl: () => sdl, introspection: false });
  const dir = path.join(root, 'apps', 'dashboard', 'src', 'graphql');
  const documents = readdirSync(dir)
    .filter((file) => file.endsWith('.graphql'))
    .map((file) => parse(readFileSync(path.join(dir, file), 'utf8')));
  const fragments = documents.flatMap((document) => document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION));
  const operations = documents.flatMap((document) => document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION));

  /** The operation and, transitively, the fragments it spreads. */
  function withFragments(operation: OperationDefinitionNode): string {
    let text = print(operation);
    const used = new Set<string>();
    for (let grew = true; grew; ) {
      grew = false;
      for (const fragment of fragments) {
        if (!used.has(fragment.name.value) && new RegExp(`\\.\\.\\.${fragment.name.value}\\b`).test(text)) {
          used.add(fragment.name.value);
          text += `\n${print(fragment)}`;
          grew = true;
        }
      }
    }
    return text;
  }

  it('finds the dashboard operations', () => {
    expect(operations.length).toBeGreaterThan(10);
  });

  it.each(operations.map((operation) => [operation.name?.value ?? '(anonymous)', operation] as const))('%s passes', (_name, operation) => {
    const result = limiter.check(withFragments(operation), {});
    expect(result.error?.message).toBeUndefined();
  });
});
