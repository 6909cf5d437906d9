import type { GraphQLSchema } from 'graphql';
import type { FetchNode, PlanNode, QueryPlan, SubscriptionNode } from '@apollo/query-planner';
import { compileRepresentations, type RepresentationExtractor } from './compileRepresentations';

export type CompiledNode =
  | { kind: 'Sequence'; nodes: CompiledNode[] }
  | { kind: 'Parallel'; nodes: CompiledNode[] }
  | { kind: 'Flatten'; path: string[]; node: CompiledNode }
  | CompiledFetch;

export interface CompiledFetch {
  kind: 'Fetch';
  serviceName: string;
  /** The operation text sent to the subgraph, its name, and the client variables it uses. */
  operation: string;
  operationName: string | undefined;
  variableUsages: readonly string[];
  /** Entity fetches only: builds each entity's representation. */
  representations: RepresentationExtractor | undefined;
  /** The planner's node (its `operationDocumentNode` is passed to the data source, as Apollo does). */
  source: FetchNode;
}

export type CompiledPlanResult = { ok: true; node: CompiledNode | undefined } | { ok: false; reason: string };

/**
 * Compiles a query plan for the fast executor, or says why it cannot: only Sequence, Parallel,
 * Flatten (field names and `@`) and Fetch nodes without input/output/context rewrites are
 * supported. Everything else (Defer, Condition, Subscription, rewrites of `@interfaceObject` and
 * `@fromContext`, type-conditioned paths) runs on Apollo's own executor.
 */
export function compilePlan(queryPlan: QueryPlan, supergraphSchema: GraphQLSchema): CompiledPlanResult {
  if (!queryPlan.node) return { ok: true, node: undefined };
  try {
    return { ok: true, node: compileNode(queryPlan.node, supergraphSchema) };
  } catch (error) {
    if (error instanceof UnsupportedPlan) return { ok: false, reason: error.message };
    throw error;
  }
}

class UnsupportedPlan extends Error {}

function compileNode(node: PlanNode | SubscriptionNode, schema: GraphQLSchema): CompiledNode {
  switch (node.kind) {
    case 'Sequence':
    case 'Parallel':
      return { kind: node.kind, nodes: node.nodes.map((child) => compileNode(child, schema)) };
    case 'Flatten': {
      const path = node.path.map((element) => {
        // Field names and `@` only; a number or a type-conditioned element (`|[A,B]`, never
        // produced by the gateway's planner) goes to Apollo's executor.
        if (typeof element !== 'string' || element.startsWith('|') || element.startsWith('... on ')) {
          throw new UnsupportedPlan(`flatten path element ${JSON.stringify(element)}`);
        }
        return element;
      });
      return { kind: 'Flatten', path, node: compileNode(node.node, schema) };
    }
    case 'Fetch':
      return compileFetch(node, schema);
    default:
      throw new UnsupportedPlan(`${node.kind} node`);
  }
}

function compileFetch(fetch: FetchNode, schema: GraphQLSchema): CompiledFetch {
  if (fetch.inputRewrites?.length || fetch.outputRewrites?.length || fetch.contextRewrites?.length) {
    throw new UnsupportedPlan(`fetch from ${fetch.serviceName} with data rewrites`);
  }
  return {
    kind: 'Fetch',
    serviceName: fetch.serviceName,
    operation: fetch.operation,
    operationName: fetch.operationName,
    variableUsages: fetch.variableUsages ?? [],
    representations: fetch.requires ? compileRepresentations(fetch.requires, schema) : undefined,
    source: fetch,
  };
}
