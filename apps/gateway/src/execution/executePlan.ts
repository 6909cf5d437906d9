import { GraphQLError, type GraphQLErrorOptions, type GraphQLFormattedError } from 'graphql';
import type { GraphQLDataSource } from '@apollo/gateway';
// Not re-exported by the package's entry point.
import { GraphQLDataSourceRequestKind } from '@apollo/gateway/dist/datasources/types';
import type { ResponsePath } from '@apollo/query-planner';
import { ERRORS, errorCodeDef } from '@apollo/federation-internals';
import type { GatewayGraphQLRequestContext, GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { CompiledFetch, CompiledNode } from './compilePlan';
import { deepMerge } from './deepMerge';

export type ServiceMap = Record<string, GraphQLDataSource>;

type ResultMap = Record<string, any>;

/** Where a node of the plan works: its path in the response and the object(s) found there. */
interface Cursor {
  path: ResponsePath;
  data: ResultMap | ResultMap[];
  fullResult: ResultMap;
}

interface RunContext {
  serviceMap: ServiceMap;
  requestContext: GatewayGraphQLRequestContext;
  /** Errors of the fetches, in the order they happened (GraphQLErrors, or Errors thrown by a fetch). */
  errors: Error[];
}

const hasOwnProperty = Object.prototype.hasOwnProperty;

/**
 * Runs a compiled plan and returns the data it assembled (not yet shaped to the operation) and
 * the errors of its fetches. Same requests, same merge and same errors as Apollo's
 * `executeQueryPlan`, without its per-request tracing spans and trace nodes.
 */
export async function executePlan(
  node: CompiledNode | undefined,
  serviceMap: ServiceMap,
  requestContext: GatewayGraphQLRequestContext,
): Promise<{ data: ResultMap; errors: Error[] }> {
  const data: ResultMap = Object.create(null);
  const context: RunContext = { serviceMap, requestContext, errors: [] };
  if (node) await executeNode(context, node, { path: [], data, fullResult: data });
  return { data, errors: context.errors };
}

async function executeNode(context: RunContext, node: CompiledNode, cursor: Cursor): Promise<void> {
  switch (node.kind) {
    case 'Sequence':
      for (const child of node.nodes) await executeNode(context, child, cursor);
      return;
    case 'Parallel':
      await Promise.all(node.nodes.map((child) => executeNode(context, child, cursor)));
      return;
    case 'Flatten': {
      const data = flattenResultsAtPath(cursor.data, node.path);
      // Nothing there (a null parent): the node is not run, as with Apollo.
      if (!data) return;
      await executeNode(context, node.node, { path: cursor.path.concat(node.path), data, fullResult: cursor.fullResult });
      return;
    }
    case 'Fetch':
      try {
        await executeFetch(context, node, cursor);
      } catch (error) {
        context.errors.push(error as Error);
      }
  }
}

/**
 * The objects at `path` below `value`, lists flattened at each `@` (what Apollo's executor
 * computes with nested `flatMap`s, collected into one array here). Nulls met inside a list are
 * kept (the fetch skips them); a null before the first `@` means there is nothing to fetch.
 */
function flattenResultsAtPath(value: any, path: readonly string[]): any {
  for (let index = 0; index < path.length; index++) {
    if (value === undefined || value === null) return value;
    const current = path[index]!;
    if (current === '@') {
      const out: any[] = [];
      collectAtPath(value, path, index, out);
      return out;
    }
    if (Array.isArray(value)) throw new Error(`Unexpected array in result for path element ${current}`);
    value = hasOwnProperty.call(value, current) ? value[current] : undefined;
  }
  return value;
}

/** Appends to `out` what each element of `list` (the value at the `@` at `at`) has at the rest of `path`. */
function collectAtPath(list: any, path: readonly string[], at: number, out: any[]): void {
  // A non-list where the plan expects one: the subgraph returned the wrong shape. Fails as Apollo's executor does.
  if (!Array.isArray(list)) throw new TypeError('value.flatMap is not a function');
  elements: for (const element of list) {
    let value = element;
    for (let index = at + 1; index < path.length; index++) {
      if (value === undefined || value === null) break;
      const current = path[index]!;
      if (current === '@') {
        collectAtPath(value, path, index, out);
        continue elements;
      }
      if (Array.isArray(value)) throw new Error(`Unexpected array in result for path element ${current}`);
      value = hasOwnProperty.call(value, current) ? value[current] : undefined;
    }
    // flatMap semantics: a list found at the end of the path is spread one level.
    if (Array.isArray(value)) for (const item of value) out.push(item);
    else out.push(value);
  }
}

async function executeFetch(context: RunContext, fetch: CompiledFetch, cursor: Cursor): Promise<void> {
  const service = context.serviceMap[fetch.serviceName];
  if (!service) throw new Error(`Couldn't find service with name "${fetch.serviceName}"`);

  let entities: ResultMap[];
  if (Array.isArray(cursor.data)) {
    entities = [];
    for (const entity of cursor.data) if (entity !== null && entity !== undefined) entities.push(entity);
  } else {
    entities = [cursor.data];
  }
  if (entities.length < 1) return;

  const variables: Record<string, unknown> = Object.create(null);
  const provided = context.requestContext.request.variables;
  if (provided) {
    for (const name of fetch.variableUsages) {
      if (hasOwnProperty.call(provided, name) && typeof provided[name] !== 'undefined') variables[name] = provided[name];
    }
  }

  const extract = fetch.representations;
  if (!extract) {
    const received = await sendOperation(context, fetch, cursor, service, variables);
    for (const entity of entities) deepMerge(entity, received);
    return;
  }

  // Identical representations are sent once: entities met several times on a path (the same
  // product under many reviews) cost one entry in the fetch, not one each. Each entity is merged
  // with the answer of its representation; errors of a deduplicated entry are reported for every
  // entity that shares it, as if each had been sent (Apollo's executor sends duplicates).
  const representations: ResultMap[] = [];
  const representationToEntity: number[] = [];
  const representationToSlot: number[] = [];
  const slots = createSlotIndex();
  for (let index = 0; index < entities.length; index++) {
    const representation = extract(entities[index]);
    if (representation && representation.__typename) {
      let slot = slots.get(representation);
      if (slot === undefined) {
        slot = representations.length;
        slots.set(representation, slot);
        representations.push(representation);
      }
      representationToSlot.push(slot);
      representationToEntity.push(index);
    }
  }
  // No entity matched the type conditions of `requires` (or all lacked inputs): nothing to fetch.
  if (representations.length < 1) return;
  if ('representations' in variables) throw new Error(`Variables cannot contain key "representations"`);

  const deduplicated = representations.length < representationToSlot.length;
  const received = await sendOperation(context, fetch, cursor, service, { ...variables, representations }, deduplicated ? representationToSlot : undefined);
  if (!received) return;
  if (!(received._entities && Array.isArray(received._entities))) {
    throw new Error(`Expected "data._entities" in response to be an array`);
  }
  const receivedEntities: any[] = received._entities;
  if (receivedEntities.length !== representations.length) {
    throw new Error(`Expected "data._entities" to contain ${representations.length} elements`);
  }
  for (let index = 0; index < representationToEntity.length; index++) {
    const entity = entities[representationToEntity[index]!]!;
    const receivedEntity = receivedEntities[representationToSlot[index]!];
    if (receivedEntity && !receivedEntity.__typename) receivedEntity.__typename = entity.__typename;
    deepMerge(entity, receivedEntity);
  }
}

const END = Symbol('representation end');
type SlotNode = Map<unknown, SlotNode | number>;

/**
 * Slots of the representations of one entity fetch, equal representations sharing one. Flat
 * representations (`{ __typename, id }`: scalar values only, the common case) are looked up in a
 * tree of Maps keyed by field name, then value (Map keys tell 1 from "1", null from undefined),
 * which allocates nothing for a representation seen before; building string keys for them cost
 * ~7 % of the gateway's CPU on the federation benchmark and much of its garbage. Representations
 * with objects or lists inside are keyed by their JSON.
 */
export function createSlotIndex() {
  const root: SlotNode = new Map();
  const nested = new Map<string, number>();
  function nodeFor(representation: ResultMap, create: boolean): SlotNode | undefined {
    let node = root;
    for (const name in representation) {
      const value = representation[name];
      let byName = node.get(name) as SlotNode | undefined;
      if (!byName) {
        if (!create) return undefined;
        node.set(name, (byName = new Map()));
      }
      let next = byName.get(value) as SlotNode | undefined;
      if (!next) {
        if (!create) return undefined;
        byName.set(value, (next = new Map()));
      }
      node = next;
    }
    return node;
  }
  const isFlat = (representation: ResultMap) => {
    for (const name in representation) {
      const value = representation[name];
      if (value !== null && typeof value === 'object') return false;
    }
    return true;
  };
  return {
    get(representation: ResultMap): number | undefined {
      if (!isFlat(representation)) return nested.get(JSON.stringify(representation));
      return nodeFor(representation, false)?.get(END) as number | undefined;
    },
    set(representation: ResultMap, slot: number) {
      if (!isFlat(representation)) nested.set(JSON.stringify(representation), slot);
      else nodeFor(representation, true)!.set(END, slot);
    },
  };
}

/**
 * The subgraph's errors as if every representation had been sent: an error at `_entities.<slot>`
 * is repeated, where it stands, for each representation that shares the slot (in their order).
 * The errors are Apollo's; their order can differ from Apollo's only between entities the
 * subgraph reported in another order than theirs (docs/adr/0018).
 */
function expandDeduplicatedErrors(errors: readonly GraphQLFormattedError[], representationToSlot: readonly number[]): GraphQLFormattedError[] {
  const indexesOfSlot = new Map<number, number[]>();
  representationToSlot.forEach((slot, index) => {
    const indexes = indexesOfSlot.get(slot);
    if (indexes) indexes.push(index);
    else indexesOfSlot.set(slot, [index]);
  });
  const expanded: GraphQLFormattedError[] = [];
  for (const error of errors) {
    const path = error.path;
    const indexes = path && path[0] === '_entities' && typeof path[1] === 'number' ? indexesOfSlot.get(path[1]) : undefined;
    if (!indexes) expanded.push(error);
    else for (const index of indexes) expanded.push({ ...error, path: ['_entities', index, ...path!.slice(2)] });
  }
  return expanded;
}

async function sendOperation(
  context: RunContext,
  fetch: CompiledFetch,
  cursor: Cursor,
  service: GraphQLDataSource,
  variables: Record<string, unknown>,
  /** For an entity fetch whose representations were deduplicated: the slot of each representation. */
  representationToSlot?: readonly number[],
): Promise<ResultMap | null | undefined> {
  const requestContext = context.requestContext;
  const response: GatewayGraphQLResponse = await service.process({
    kind: GraphQLDataSourceRequestKind.INCOMING_OPERATION,
    request: {
      query: fetch.operation,
      variables,
      operationName: fetch.operationName,
      http: undefined,
    },
    incomingRequestContext: requestContext,
    context: requestContext.context,
    document: fetch.source.operationDocumentNode,
    pathInIncomingRequest: cursor.path,
  });

  if (response.errors && representationToSlot) response.errors = expandDeduplicatedErrors(response.errors, representationToSlot);
  if (response.errors) {
    const errorPath = errorPathGenerator(fetch, cursor);
    const errors = response.errors.map((originalError) => downstreamServiceError(originalError, fetch.serviceName, errorPath));
    context.errors.push(...errors);
    if (!response.extensions?.ftv1) {
      // Usage reporting reads these (Apollo's executor records them the same way).
      const errorPaths = response.errors.map((error) => ({ subgraph: fetch.serviceName, path: error.path }));
      const metrics = requestContext.metrics;
      if (metrics.nonFtv1ErrorPaths) metrics.nonFtv1ErrorPaths.push(...errorPaths);
      else metrics.nonFtv1ErrorPaths = errorPaths;
    }
  }
  return response.data;
}

type ErrorPath = GraphQLErrorOptions['path'];

/**
 * Maps the path of a subgraph error to the client's response: `_entities.<i>.rest` becomes the
 * path of the i-th entity (the `@` of the fetch's path replaced by list indexes, computed only when
 * an error needs it); any other path is prefixed with the fetch's path.
 */
function errorPathGenerator(fetch: CompiledFetch, cursor: Cursor): (path: ErrorPath) => ErrorPath {
  let hydratedPaths: ResponsePath[] | undefined;
  return (errorPath) => {
    if (fetch.representations && typeof errorPath?.[1] === 'number') {
      if (!hydratedPaths) {
        hydratedPaths = [];
        hydratePaths([], cursor.path, 0, cursor.fullResult, hydratedPaths);
      }
      const hydratedPath = hydratedPaths[errorPath[1]] ?? [];
      return [...hydratedPath, ...errorPath.slice(2)];
    }
    return errorPath ? [...cursor.path, ...errorPath.slice()] : undefined;
  };
}

/** Every concrete path matching `path` in `data` (`@` = each index; a field on a list = on each element). */
function hydratePaths(parent: ResponsePath, path: ResponsePath, index: number, data: any, result: ResponsePath[]): void {
  if (data === null || data === undefined) return;
  if (index === path.length) {
    result.push(parent.slice());
    return;
  }
  const head = path[index];
  if (head === '@') {
    if (!Array.isArray(data)) throw new Error('expected array when encountering `@`');
    for (let position = 0; position < data.length; position++) {
      parent.push(position);
      hydratePaths(parent, path, index + 1, data[position], result);
      parent.pop();
    }
  } else if (typeof head === 'string') {
    if (Array.isArray(data)) {
      for (let position = 0; position < data.length; position++) {
        parent.push(position);
        hydratePaths(parent, path, index, data[position], result);
        parent.pop();
      }
    } else if (hasOwnProperty.call(data, head)) {
      parent.push(head);
      hydratePaths(parent, path, index + 1, data[head], result);
      parent.pop();
    }
  } else {
    throw new Error(`unknown path part "${head}"`);
  }
}

/** A subgraph's error as the gateway reports it: the subgraph's message and code, `serviceName`, the client's path. */
function downstreamServiceError(originalError: GraphQLFormattedError, serviceName: string, errorPath: (path: ErrorPath) => ErrorPath): GraphQLError {
  let { message } = originalError;
  const { extensions } = originalError;
  if (!message) message = `Error while fetching subquery from service "${serviceName}"`;
  const options: GraphQLErrorOptions = {
    originalError: originalError as Error,
    path: errorPath(originalError.path),
    extensions: { ...extensions, serviceName },
  };
  const codeDef = errorCodeDef(originalError);
  // A code the federation library does not know (e.g. set by our data source) is kept as is.
  if (!codeDef && extensions?.code) return new GraphQLError(message, options);
  return (codeDef ?? ERRORS.DOWNSTREAM_SERVICE_ERROR).err(message, options);
}
