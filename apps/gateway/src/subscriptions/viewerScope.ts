import type { QueryPlan } from '@apollo/query-planner';
import {
  getNamedType,
  isAbstractType,
  isCompositeType,
  isUnionType,
  parse,
  type ConstDirectiveNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLNamedType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { isSignedIn, type Viewer } from '@meridian/tokens';
import type { SubscriptionPlan } from './planner';

/**
 * Whether the events of a subscription are the same for every viewer with the same roles and
 * scopes, as the subgraphs declare it with Apollo Server's cache hints (`@cacheControl`, composed
 * into the supergraph). Then users with the same authorization share one upstream subscription
 * and one completion per event (ADR 0023); otherwise each user has their own.
 *
 * The rule is Apollo's static cache-control rule for "may this answer be shared?", minus maxAge
 * (an event is computed once and sent at once, never kept):
 * - every field that returns an object, interface or union (the root field included) is declared:
 *   it or its type carries a hint, or it carries `inheritMaxAge: true` under a declared parent;
 * - no hint on a selected field or type says `scope: PRIVATE`;
 * - no selected field or type has a `@policy` (a rule about who the viewer is).
 * That holds for the operation sent upstream and for every per-event entity fetch. Anything the
 * check does not recognise (a plan node, a field missing from the supergraph) counts as per user.
 */
export function createViewerScopes(supergraph: GraphQLSchema) {
  const known = new WeakMap<SubscriptionPlan, boolean>();

  function sameForEveryViewer(plan: SubscriptionPlan): boolean {
    let answer = known.get(plan);
    if (answer === undefined) {
      const fetches: string[] = [plan.primary.operation];
      answer = collectFetches(plan.perEvent.node, fetches) && fetches.every((operation, index) => operationIsShared(supergraph, operation, index === 0));
      known.set(plan, answer);
    }
    return answer;
  }

  return {
    /**
     * Who a subscription's results are computed for: the viewer's authorization (roles and token
     * scopes) when its events are the same for all such viewers, otherwise the viewer themselves.
     */
    scopeOf(plan: SubscriptionPlan, viewer: Viewer): string {
      if (!isSignedIn(viewer)) return 'anonymous';
      const roles = [...viewer.roles].sort().join(',');
      if (!sameForEveryViewer(plan)) return `user:${viewer.userId}|${roles}`;
      return `roles:${roles}|scopes:${[...viewer.scopes].sort().join(',')}`;
    },
  };
}

/** The fetches of a per-event plan (the injected event first); false for a node kind not known here. */
function collectFetches(node: QueryPlan['node'], into: string[]): boolean {
  if (!node) return true;
  switch (node.kind) {
    case 'Fetch':
      // The first fetch of the per-event plan is the event itself (already in `into` as the primary).
      if (node.serviceName !== '__subscription_event__') into.push(node.operation);
      return true;
    case 'Flatten':
      return collectFetches(node.node, into);
    case 'Sequence':
    case 'Parallel':
      return node.nodes.every((child) => collectFetches(child, into));
    default:
      return false;
  }
}

type Hint = { declared: boolean; inherit: boolean; private: boolean; policy: boolean };

function hintOf(directives: readonly ConstDirectiveNode[] | undefined): Hint {
  const hint: Hint = { declared: false, inherit: false, private: false, policy: false };
  for (const directive of directives ?? []) {
    if (directive.name.value === 'policy') hint.policy = true;
    if (directive.name.value !== 'cacheControl') continue;
    for (const argument of directive.arguments ?? []) {
      const { value } = argument;
      if (argument.name.value === 'scope' && value.kind === 'EnumValue' && value.value === 'PRIVATE') hint.private = true;
      if (argument.name.value === 'inheritMaxAge' && value.kind === 'BooleanValue' && value.value) hint.inherit = true;
    }
    // `@cacheControl(inheritMaxAge: true)` alone declares nothing of its own: it follows the parent.
    if (!hint.inherit) hint.declared = true;
  }
  return hint;
}

function typeHint(type: GraphQLNamedType): Hint {
  const nodes = [type.astNode, ...(type.extensionASTNodes ?? [])];
  const merged: Hint = { declared: false, inherit: false, private: false, policy: false };
  for (const node of nodes) {
    const hint = hintOf(node?.directives);
    merged.declared ||= hint.declared;
    merged.private ||= hint.private;
    merged.policy ||= hint.policy;
  }
  return merged;
}

/** A type as a selection may meet it: each of its possible object types counts. */
function typeIsViewerDependent(schema: GraphQLSchema, type: GraphQLCompositeType): boolean {
  const types = isAbstractType(type) ? [type, ...schema.getPossibleTypes(type)] : [type];
  return types.some((candidate) => {
    const hint = typeHint(candidate);
    return hint.private || hint.policy;
  });
}

function operationIsShared(schema: GraphQLSchema, operation: string, subscription: boolean): boolean {
  let document;
  try {
    document = parse(operation);
  } catch {
    return false;
  }
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === 'FragmentDefinition') fragments.set(definition.name.value, definition);
  const root = subscription ? schema.getSubscriptionType() : schema.getQueryType();
  if (!root) return false;

  function selectionIsShared(selectionSet: SelectionSetNode, parent: GraphQLCompositeType, parentDeclared: boolean, isRoot: boolean): boolean {
    for (const selection of selectionSet.selections) {
      if (selection.kind === 'FragmentSpread') {
        const fragment = fragments.get(selection.name.value);
        const type = fragment && schema.getType(fragment.typeCondition.name.value);
        if (!fragment || !type || !isCompositeType(type) || typeIsViewerDependent(schema, type)) return false;
        if (!selectionIsShared(fragment.selectionSet, type, parentDeclared, isRoot)) return false;
        continue;
      }
      if (selection.kind === 'InlineFragment') {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        if (!type || !isCompositeType(type) || typeIsViewerDependent(schema, type)) return false;
        // An entity fetch's `... on User { }` under `_entities`: the type must declare itself.
        const declared = isRoot ? typeHint(type).declared : parentDeclared;
        if (!declared || !selectionIsShared(selection.selectionSet, type, declared, false)) return false;
        continue;
      }
      const name = selection.name.value;
      if (name === '__typename') continue;
      if (isRoot && !subscription && name === '_entities') {
        // Representations in, entities out: each inline fragment names the entity type.
        if (!selection.selectionSet || !selectionIsShared(selection.selectionSet, parent, false, true)) return false;
        continue;
      }
      // A union has no fields of its own but __typename.
      const field = isUnionType(parent) ? undefined : parent.getFields()[name];
      if (!field) return false;
      const fieldHint = hintOf(field.astNode?.directives);
      if (fieldHint.private || fieldHint.policy) return false;
      const type = getNamedType(field.type);
      if (!isCompositeType(type)) continue;
      if (typeIsViewerDependent(schema, type)) return false;
      const declared = fieldHint.declared || typeHint(type).declared || (fieldHint.inherit && parentDeclared && !isRoot);
      if (!declared || !selection.selectionSet) return false;
      if (!selectionIsShared(selection.selectionSet, type, true, false)) return false;
    }
    return true;
  }

  return document.definitions.every((definition) => {
    if (definition.kind !== 'OperationDefinition') return true;
    return selectionIsShared(definition.selectionSet, root, false, true);
  });
}
