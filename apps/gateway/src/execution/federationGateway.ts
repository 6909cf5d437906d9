import type {
  GatewayExecutionResult,
  GatewayExecutor,
  GatewayGraphQLRequestContext,
  GatewayInterface,
  GatewaySchemaLoadOrUpdateCallback,
} from '@apollo/server-gateway-interface';
import type { GraphQLSchema } from 'graphql';
import { getVariableValues } from 'graphql';
import { operationFromDocument } from '@apollo/federation-internals';
import { prettyFormatQueryPlan, type QueryPlan } from '@apollo/query-planner';
// A deep import: the package's entry point would load ApolloGateway and everything it brings.
import { addExtensions } from '@apollo/gateway/dist/schema-helper/addExtensions';
import { createLruCache } from '../lruCache';
import { buildOperationContext, executeQueryPlan } from './apolloExecution';
import { UNSUPPORTED, type OperationExecutor, type ServiceMap } from './operationExecutor';

export interface FederationGatewayOptions {
  /** The executor of the supergraph in use (swapped on hot reload; call `switched()` after). */
  executor: () => OperationExecutor;
  /** The subgraph data sources of an executor's subgraphs (called per operation: cache them). */
  serviceMap: (executor: OperationExecutor) => ServiceMap;
  /** Answer `Apollo-Query-Plan-Experimental` with the query plan (ApolloGateway does outside production). */
  exposeQueryPlan: boolean;
  /** Plans kept for operations that run on Apollo's executor (default 1000). */
  maxCachedPlans?: number;
  /** Called for each operation that runs on Apollo's executor (tests, metrics). */
  onFallback?: (requestContext: GatewayGraphQLRequestContext) => void;
}

export interface FederationGateway extends GatewayInterface {
  /** Tells Apollo Server the supergraph changed: `executor()` now returns the new one. */
  switched(): void;
}

/**
 * Apollo Server's `gateway`, built on the executor's own supergraph: the API schema Apollo Server
 * validates against, queries and mutations on the fast executor, and what the fast executor does
 * not support (ADR 0018's fallback rule) on Apollo's `executeQueryPlan`, exactly as
 * `ApolloGateway.executor` runs it (operation context, variable check, plan, execution, the query
 * plan on request outside production). `ApolloGateway` itself is not used: it would build a second
 * supergraph and planner and load its whole package (ADR 0018, amended).
 *
 * Each request runs on the executor whose schema Apollo Server validated it against, so a request
 * that started before a supergraph switch finishes on the supergraph it was validated with.
 */
export function createFederationGateway(options: FederationGatewayOptions): FederationGateway {
  const listeners = new Set<GatewaySchemaLoadOrUpdateCallback>();
  const executorOfSchema = new WeakMap<GraphQLSchema, OperationExecutor>();
  const plans = new WeakMap<OperationExecutor, ReturnType<typeof createLruCache<string, QueryPlan>>>();

  function announce() {
    const executor = options.executor();
    // The schema extension ApolloGateway adds (the gateway's version, read by usage reporting).
    addExtensions(executor.schema);
    executorOfSchema.set(executor.schema, executor);
    for (const listener of listeners) listener({ apiSchema: executor.schema, coreSupergraphSdl: executor.supergraphSdl });
    return executor;
  }

  function planFor(executor: OperationExecutor, requestContext: GatewayGraphQLRequestContext): QueryPlan {
    let cache = plans.get(executor);
    if (!cache) plans.set(executor, (cache = createLruCache<string, QueryPlan>(options.maxCachedPlans ?? 1_000)));
    const operationName = requestContext.request.operationName;
    const key = `${requestContext.queryHash}\n${operationName ?? ''}`;
    let plan = cache.get(key);
    if (!plan) {
      const operation = operationFromDocument(executor.apiSchema, requestContext.document!, { operationName });
      plan = executor.queryPlanner.buildQueryPlan(operation);
      cache.set(key, plan);
    }
    return plan;
  }

  /** What `ApolloGateway.executor` does, on this executor's supergraph. */
  async function runOnApollo(executor: OperationExecutor, requestContext: GatewayGraphQLRequestContext): Promise<GatewayExecutionResult> {
    const { request, document } = requestContext;
    const operationContext = buildOperationContext({ schema: executor.schema, operationDocument: document!, operationName: request.operationName });
    const variableDefinitions = operationContext.operation.variableDefinitions;
    if (variableDefinitions) {
      const { errors } = getVariableValues(operationContext.schema, variableDefinitions, request.variables || {});
      if (errors) return { errors };
    }
    const plan = planFor(executor, requestContext);
    const response = await executeQueryPlan(plan, options.serviceMap(executor), requestContext, operationContext, executor.supergraphSchema, executor.apiSchema);
    const headers = request.http?.headers;
    if (options.exposeQueryPlan && headers?.get('Apollo-Query-Plan-Experimental')) {
      const format = headers.has('Apollo-Query-Plan-Experimental-Format') ? headers.get('Apollo-Query-Plan-Experimental-Format') : 'prettified';
      const pretty = plan.node ? prettyFormatQueryPlan(plan) : null;
      response.extensions = { __queryPlanExperimental: format === 'prettified' ? pretty || true : format === 'internal' ? plan : true };
    }
    return response;
  }

  const executor: GatewayExecutor = async (requestContext) => {
    const current = executorOfSchema.get(requestContext.schema) ?? options.executor();
    const fast =
      !requestContext.metrics?.captureTraces && !(options.exposeQueryPlan && requestContext.request.http?.headers.get('Apollo-Query-Plan-Experimental'));
    if (fast) {
      const answer = await current.execute(requestContext, options.serviceMap(current));
      if (answer !== UNSUPPORTED) return answer;
    }
    options.onFallback?.(requestContext);
    return runOnApollo(current, requestContext);
  };

  return {
    onSchemaLoadOrUpdate(callback) {
      listeners.add(callback);
      return () => listeners.delete(callback);
    },
    async load() {
      const current = announce();
      return { schema: current.schema, executor };
    },
    switched() {
      announce();
    },
    async stop() {
      listeners.clear();
    },
  };
}
