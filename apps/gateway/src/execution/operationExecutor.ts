import {
  Kind,
  GraphQLError,
  getVariableValues,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type VariableDefinitionNode,
} from 'graphql';
import { Supergraph, operationFromDocument, type Schema } from '@apollo/federation-internals';
import { QueryPlanner, type QueryPlan } from '@apollo/query-planner';
import { buildOperationContext } from './apolloExecution';
import type { GatewayExecutionResult, GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { compilePlan, type CompiledNode } from './compilePlan';
import { executePlan, type ServiceMap } from './executePlan';
import { compileResultShaper, type ResultShaper } from './shapeResult';
import { createLruCache } from '../lruCache';

export type { ServiceMap };

/** Returned instead of a result when an operation must run on Apollo's own executor. */
export const UNSUPPORTED: unique symbol = Symbol('unsupported by the fast executor');
export type Unsupported = typeof UNSUPPORTED;

/** One operation compiled for the fast executor: its plan, its variable definitions, its result shaping. */
export interface CompiledOperation {
  plan: CompiledNode | undefined;
  variableDefinitions: readonly VariableDefinitionNode[];
  shape: ResultShaper;
}

/**
 * An operation Apollo Server has parsed and validated against this executor's API schema and that
 * compiled: the gateway's direct HTTP path runs it again by its text alone (see src/http).
 */
export interface KnownOperation {
  compiled: CompiledOperation;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  /** Apollo Server's hash of the query text (sha256, hex). */
  queryHash: string;
}

export interface OperationExecutorOptions {
  supergraphSdl: string;
  /** Compiled operations kept (least recently used evicted first; default 1000). */
  maxCachedOperations?: number;
}

/**
 * Everything the gateway derives from one supergraph (built once, shared by queries, mutations
 * and subscriptions) and the fast executor of Apollo query plans on top of it.
 *
 * Compile once per operation, run many times: an operation's plan (from Apollo's QueryPlanner),
 * representations of `requires`, and result shaping are compiled on first use and cached per
 * (query hash, operation name). Results equal those of Apollo's `executeQueryPlan`, key order
 * included. Plans it does not support (Defer, Condition, data rewrites, introspection) are
 * answered with `UNSUPPORTED` so the caller runs them on Apollo's executor.
 */
export function createOperationExecutor(options: OperationExecutorOptions) {
  const supergraphSdl = options.supergraphSdl;
  const supergraph = Supergraph.build(supergraphSdl);
  const apiSchema: Schema = supergraph.apiSchema();
  const schema: GraphQLSchema = apiSchema.toGraphQLJSSchema();
  const supergraphSchema: GraphQLSchema = supergraph.schema.toGraphQLJSSchema();
  const queryPlanner = new QueryPlanner(supergraph);
  const subgraphs = supergraph.subgraphsMetadata();
  const compiled = createLruCache<string, CompiledOperation | Unsupported>(options.maxCachedOperations ?? 1_000);
  // By query text and operation name; only operations validated by Apollo Server get here.
  const known = createLruCache<string, KnownOperation>(options.maxCachedOperations ?? 1_000);
  // An empty operation name is not a missing one (Apollo Server finds no operation for it).
  const knownKey = (query: string, operationName: string | undefined | null) => (operationName == null ? query : `${operationName}\n${query}`);

  /**
   * Compiles a plan for `document`/`operationName`, or UNSUPPORTED. Shaping works on the same
   * operation Apollo's executor builds for it (the operation and its fragments, unvalidated).
   */
  function compile(args: { plan: QueryPlan; document: DocumentNode; operationName: string | undefined }): CompiledOperation | Unsupported {
    try {
      const plan = compilePlan(args.plan, supergraphSchema);
      if (!plan.ok) return UNSUPPORTED;
      const context = buildOperationContext({ schema, operationDocument: args.document, operationName: args.operationName });
      const operation = operationFromDocument(
        apiSchema,
        { kind: Kind.DOCUMENT, definitions: [context.operation, ...Object.values(context.fragments)] },
        { validate: false },
      );
      return { plan: plan.node, variableDefinitions: context.operation.variableDefinitions ?? [], shape: compileResultShaper(operation) };
    } catch {
      // Whatever fails here (unknown operation, planning limits, introspection) Apollo's executor
      // reports in its own words.
      return UNSUPPORTED;
    }
  }

  /** The compiled form of the request's operation (planned on first sight), or UNSUPPORTED. */
  function compiledFor(requestContext: GatewayGraphQLRequestContext): CompiledOperation | Unsupported {
    const { queryHash, document } = requestContext;
    const operationName = requestContext.request.operationName;
    if (!queryHash || !document) return UNSUPPORTED;
    const key = operationName ? `${queryHash}\n${operationName}` : queryHash;
    let result = compiled.get(key);
    if (result === undefined) {
      try {
        const operation = operationFromDocument(apiSchema, document, { operationName });
        result = compile({ plan: queryPlanner.buildQueryPlan(operation), document, operationName });
      } catch {
        result = UNSUPPORTED;
      }
      compiled.set(key, result);
    }
    const source = requestContext.source ?? requestContext.request.query;
    if (result !== UNSUPPORTED && source !== undefined && requestContext.operation) {
      const entry = knownKey(source, operationName);
      if (known.get(entry) === undefined) known.set(entry, { compiled: result, document, operation: requestContext.operation, queryHash });
    }
    return result;
  }

  /** The variables' errors (the check `ApolloGateway.executor` makes), or undefined when they are valid. */
  function variableErrors(operation: CompiledOperation, variables: Record<string, unknown> | undefined, against: GraphQLSchema = schema): readonly GraphQLError[] | undefined {
    if (operation.variableDefinitions.length === 0) return undefined;
    return getVariableValues(against, operation.variableDefinitions, variables || {}).errors;
  }

  /**
   * Runs a compiled operation: the plan's fetches through `serviceMap`, then the shaping, with
   * the result (and the errors) `executeQueryPlan` produces.
   */
  async function run(operation: CompiledOperation, requestContext: GatewayGraphQLRequestContext, serviceMap: ServiceMap): Promise<GatewayExecutionResult> {
    const { data: unfilteredData, errors } = await executePlan(operation.plan, serviceMap, requestContext);
    let data: Record<string, any> | null | undefined;
    try {
      const shaped = operation.shape(unfilteredData, requestContext.request.variables);
      data = shaped.data;
      // Value-completion errors only surface (as an extension) when no fetch failed, as with Apollo.
      if (errors.length === 0 && shaped.errors.length > 0) return { extensions: { valueCompletion: shaped.errors }, data };
    } catch (error) {
      if (error instanceof GraphQLError) return { errors: [error] };
      if (error instanceof Error) return { errors: [new GraphQLError(error.message, { originalError: error })] };
      (requestContext.logger || console).error('Unexpected error during query plan execution: ' + error);
      return { errors: [new GraphQLError('Unexpected error during query plan execution')] };
    }
    return errors.length === 0 ? { data } : { errors: errors as GraphQLError[], data };
  }

  /**
   * A query or mutation as `ApolloGateway.executor` runs it (variable checks included), or
   * UNSUPPORTED: nothing has been sent to any subgraph then.
   */
  async function execute(requestContext: GatewayGraphQLRequestContext, serviceMap: ServiceMap): Promise<GatewayExecutionResult | Unsupported> {
    const operation = compiledFor(requestContext);
    if (operation === UNSUPPORTED) return UNSUPPORTED;
    // The gateway's own check of the request's variables (Apollo Server leaves it to the gateway).
    const errors = variableErrors(operation, requestContext.request.variables, requestContext.schema);
    if (errors) return { errors };
    return run(operation, requestContext, serviceMap);
  }

  return {
    supergraphSdl,
    supergraph,
    apiSchema,
    /** The API schema as graphql-js sees it (validation, introspection of subscriptions). */
    schema,
    supergraphSchema,
    queryPlanner,
    /** Subgraph names and URLs of the supergraph (what Apollo's gateway builds data sources for). */
    subgraphs,
    compile,
    run,
    execute,
    variableErrors,
    /** The operation of this query text and name, if Apollo Server validated it and it compiled. */
    knownOperation: (query: string, operationName: string | undefined | null) => known.get(knownKey(query, operationName)),
    /** Compiled operations currently cached (for tests). */
    cachedOperations: () => compiled.size(),
  };
}

export type OperationExecutor = ReturnType<typeof createOperationExecutor>;
