import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, parse } from 'graphql';
import { Supergraph } from '@apollo/federation-internals';
import { findRepoRoot } from '@meridian/composition';
import { estimateCost, readCostDirectives } from '../src/protection/cost';

const options = { defaultListSize: 10 };

describe('cost estimate from @cost / @listSize', () => {
  const sdl = /* GraphQL */ `
    schema @link(url: "https://specs.apollo.dev/cost/v0.1", import: [{ name: "@cost", as: "@weight" }, "@listSize"]) { query: Query mutation: Mutation }
    directive @weight(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION | OBJECT | SCALAR
    directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION
    directive @link(url: String!, import: [link__Import]) repeatable on SCHEMA
    scalar link__Import
    type Query {
      items(first: Int = 20, filter: String @weight(weight: 7)): ItemConnection! @listSize(slicingArguments: ["first"], sizedFields: ["edges"])
      tags: [Tag!]! @listSize(assumedSize: 50)
      plain: [Tag!]!
      heavy: Tag @weight(weight: 40)
    }
    type Mutation { touch: Boolean! }
    type ItemConnection { edges: [ItemEdge!]! total: Int! }
    type ItemEdge { node: Item! }
    type Item { id: ID! tags: [Tag!]! @listSize(assumedSize: 3) }
    type Tag @weight(weight: 2) { name: String! }
  `;
  const schema = buildSchema(sdl);
  const directives = readCostDirectives(sdl);
  const cost = (query: string, variables?: Record<string, unknown>) => estimateCost(schema, directives, parse(query), variables, options);

  it('reads renamed @cost imports and @listSize', () => {
    expect(directives.types.get('Tag')).toBe(2);
    expect(directives.fields.get('Query.heavy')).toEqual({ weight: 40 });
    expect(directives.fields.get('Query.items')).toEqual({ argumentWeights: new Map([['filter', 7]]), slicingArguments: ['first'], sizedFields: ['edges'] });
  });

  it('sizes a connection by its slicing argument (default value when absent) and hands it to edges', () => {
    // items 1 + edges: first × (edge 1 + node 1 + tags: 3 × Tag 2)
    expect(cost('{ items(first: 5) { edges { node { id tags { name } } } } }').cost).toBe(1 + 5 * (1 + 1 + 3 * 2));
    expect(cost('{ items { edges { node { id } } } }').cost).toBe(1 + 20 * 2);
  });

  it('uses assumedSize, the default list size, type weights, field weights and argument weights', () => {
    expect(cost('{ tags { name } }').cost).toBe(50 * 2);
    expect(cost('{ plain { name } }').cost).toBe(10 * 2);
    expect(cost('{ heavy { name } }').cost).toBe(40);
    expect(cost('{ items(first: 1, filter: "x") { total } }').cost).toBe(7 + 1);
  });

  it('counts root mutation fields as 10 and takes the costliest operation of a document', () => {
    expect(cost('mutation { touch }').cost).toBe(10);
    expect(cost('query A { heavy { name } } query B { tags { name } }').cost).toBe(100);
  });

  it('reads a page size given by variable (or its default) and says so', () => {
    const query = 'query($n: Int = 4) { items(first: $n) { edges { node { id } } } }';
    expect(cost(query, { n: 100 })).toEqual({ cost: 1 + 100 * 2, usesVariables: true });
    expect(cost(query, {})).toEqual({ cost: 1 + 4 * 2, usesVariables: true });
    expect(cost('{ items(first: 2) { total } }').usesVariables).toBe(false);
  });

  it('counts fragments and inline fragments, and does not loop on a fragment that spreads itself', () => {
    expect(cost('{ ...F } fragment F on Query { heavy { name } ... on Query { tags { name } } }').cost).toBe(140);
    expect(cost('{ heavy { ...G } } fragment G on Tag { name ...G }').cost).toBe(40);
  });

  it('finds the declarations of the composed supergraph (the API schema drops them)', () => {
    const supergraphSdl = readFileSync(path.join(findRepoRoot(__dirname), 'supergraph.graphql'), 'utf8');
    const fromSupergraph = readCostDirectives(supergraphSdl);
    expect(fromSupergraph.fields.get('Query.users')).toMatchObject({ slicingArguments: ['first'], sizedFields: ['edges'] });
    expect(fromSupergraph.fields.get('Query.dashboardStats')).toMatchObject({ weight: 10 });
    expect(fromSupergraph.fields.get('DashboardStats.days')).toMatchObject({ assumedSize: 366 });
    const apiSchema = Supergraph.build(supergraphSdl).apiSchema().toGraphQLJSSchema();
    const estimate = estimateCost(apiSchema, fromSupergraph, parse('{ users(first: 50) { edges { node { id displayName } } } }'), undefined, options);
    expect(estimate.cost).toBe(1 + 50 * 2);
  });
});
