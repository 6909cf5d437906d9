import { isAbstractType, isInterfaceType, isObjectType, type GraphQLSchema } from 'graphql';
import type { QueryPlanSelectionNode } from '@apollo/query-planner';
import { deepMerge } from './deepMerge';

/** Builds the representation of one entity for an `_entities` fetch, or null when it cannot. */
export type RepresentationExtractor = (entity: any) => Record<string, unknown> | null;

const hasOwnProperty = Object.prototype.hasOwnProperty;

/**
 * Compiles a fetch's `requires` (`... on Product { __typename upc price }`) into a function that
 * reads the representation out of an entity already in the response, with the semantics of
 * Apollo's executor: a missing (or undefined) required field makes the whole selection null; a
 * type condition matches on the entity's `__typename` (the type itself, or an object/interface
 * type that is a subtype of an abstract condition, in the supergraph schema); an inline fragment
 * without a type condition contributes nothing. Type-condition answers are computed once per
 * `__typename`.
 */
export function compileRepresentations(requires: readonly QueryPlanSelectionNode[], supergraphSchema: GraphQLSchema): RepresentationExtractor {
  return compileSelections(requires, supergraphSchema);
}

type Step =
  | { kind: 'field'; responseName: string; sub: RepresentationExtractor | undefined }
  | { kind: 'fragment'; matches: (source: any) => boolean; sub: RepresentationExtractor };

function compileSelections(selections: readonly QueryPlanSelectionNode[], schema: GraphQLSchema): RepresentationExtractor {
  const steps: Step[] = [];
  for (const selection of selections) {
    if (selection.kind === 'Field') {
      steps.push({
        kind: 'field',
        responseName: selection.alias ?? selection.name,
        sub: selection.selections ? compileSelections(selection.selections, schema) : undefined,
      });
    } else if (selection.typeCondition) {
      steps.push({ kind: 'fragment', matches: typeMatcher(schema, selection.typeCondition), sub: compileSelections(selection.selections, schema) });
    }
    // An inline fragment without a type condition is skipped, as Apollo's executor does.
  }
  const extract: RepresentationExtractor = (source) => {
    if (source === null) return null;
    let result: Record<string, unknown> = {};
    // Nothing in `result` yet: a fragment's own fresh object can stand for the merge into it.
    let empty = true;
    for (const step of steps) {
      if (step.kind === 'field') {
        const name = step.responseName;
        if (!hasOwnProperty.call(source, name) || source[name] === undefined) return null;
        const value = source[name];
        const sub = step.sub;
        if (Array.isArray(value)) result[name] = sub ? value.map((item) => sub(item)) : value.slice();
        else result[name] = sub ? sub(value) : value;
        empty = false;
      } else if (source && step.matches(source)) {
        const part = step.sub(source);
        if (part === null) continue;
        if (empty) result = part;
        else deepMerge(result, part);
        empty = false;
      }
    }
    return result;
  };
  return extract;
}

/** `isObjectOfType` of Apollo's executor for one condition, memoized per `__typename`. */
function typeMatcher(schema: GraphQLSchema, typeCondition: string): (source: any) => boolean {
  const known = new Map<unknown, boolean>();
  return (source) => {
    const typename = source.__typename;
    if (!typename) return false;
    if (typename === typeCondition) return true;
    let answer = known.get(typename);
    if (answer === undefined) {
      answer = false;
      const type = schema.getType(typename);
      const condition = schema.getType(typeCondition);
      if (type && condition && isAbstractType(condition)) {
        answer = (isObjectType(type) || isInterfaceType(type)) && schema.isSubType(condition, type);
      }
      // Bounded: typenames come from subgraphs; only the schema's own names are worth remembering.
      if (known.size < 1_000) known.set(typename, answer);
    }
    return answer;
  };
}
