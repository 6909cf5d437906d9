import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { composeSupergraph, findRepoRoot, readSupergraphConfig, resolveRoutingUrls } from '../src';

const root = findRepoRoot(__dirname);

describe('supergraph composition', () => {
  it('the committed supergraph.graphql matches the subgraph SDLs (run `npm run compose` if this fails)', () => {
    const outcome = composeSupergraph(readSupergraphConfig(path.join(root, 'supergraph.yaml')));
    if (!outcome.ok) throw new Error(outcome.errors.join('\n'));
    expect(readFileSync(path.join(root, 'supergraph.graphql'), 'utf8')).toBe(outcome.supergraphSdl);
  });

  it('reports composition errors readably, naming the code, type and subgraphs', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'compose-'));
    const link = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])';
    writeFileSync(path.join(dir, 'a.graphql'), `${link}\ntype User @key(fields: "id") { id: ID! name: String }\ntype Query { a: User }`);
    writeFileSync(path.join(dir, 'b.graphql'), `${link}\ntype User @key(fields: "id") { id: ID! name: Int }\ntype Query { b: User }`);
    writeFileSync(
      path.join(dir, 'supergraph.yaml'),
      'subgraphs:\n  a:\n    routing_url: http://a/graphql\n    schema: { file: ./a.graphql }\n  b:\n    routing_url: http://b/graphql\n    schema: { file: ./b.graphql }\n',
    );
    const outcome = composeSupergraph(readSupergraphConfig(path.join(dir, 'supergraph.yaml')));
    expect(outcome.ok).toBe(false);
    const errors = outcome.ok ? [] : outcome.errors;
    expect(errors).toContain(
      '[FIELD_TYPE_MISMATCH] Type of field "User.name" is incompatible across subgraphs: it has type "String" in subgraph "a" but type "Int" in subgraph "b"',
    );
  });

  it('names the subgraph whose SDL is not valid GraphQL', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'compose-'));
    writeFileSync(path.join(dir, 'broken.graphql'), 'type Query { oops: }');
    writeFileSync(path.join(dir, 'supergraph.yaml'), 'subgraphs:\n  broken:\n    routing_url: http://x/graphql\n    schema: { file: ./broken.graphql }\n');
    expect(() => composeSupergraph(readSupergraphConfig(path.join(dir, 'supergraph.yaml')))).toThrow(/subgraph "broken".*not valid GraphQL/);
  });

  it('rejects a config entry without routing_url, naming it', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'compose-'));
    writeFileSync(path.join(dir, 'supergraph.yaml'), 'subgraphs:\n  task:\n    schema: { file: ./x.graphql }\n');
    expect(() => readSupergraphConfig(path.join(dir, 'supergraph.yaml'))).toThrow(/subgraphs\.task\.routing_url/);
  });

  it('lets <NAME>_SUBGRAPH_URL override a routing URL (containers)', () => {
    const config = readSupergraphConfig(path.join(root, 'supergraph.yaml'));
    const urls = resolveRoutingUrls(config, { TASK_SUBGRAPH_URL: 'http://task:4003/graphql' });
    expect(urls.task).toBe('http://task:4003/graphql');
    expect(urls.user).toBe('http://127.0.0.1:4001/graphql');
  });
});
