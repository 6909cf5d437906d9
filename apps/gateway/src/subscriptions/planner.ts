import { createHash } from 'node:crypto';
import { operationFromDocument } from '@apollo/federation-internals';
import type { FetchNode, PlanNode, QueryPlan } from '@apollo/query-planner';
import type { GraphQLDataSource, ServiceEndpointDefinition } from '@apollo/gateway';
import { buildOperationContext, executeQueryPlan } from '../execution/apolloExecution';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { createError } from '@meridian/errors';
import { GraphQLError, print, type DocumentNode, type ExecutionResult, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { createOperationExecutor, UNSUPPORTED, type CompiledOperation, type OperationExecutor, type Unsupported } from '../execution/operationExecutor';
import { createViewerScopes } from './viewerScope';

/** The pseudo-service that hands each upstream event to the executor as the primary fetch's result. */
const EVENT_SERVICE = '__subscription_event__';

export interface SubscriptionPlan {
  /** The subgraph that owns the subscription field, and what to send it. */
  primary: FetchNode;
  /** The plan run for every event: the primary result (injected) followed by the entity fetches. */
  perEvent: QueryPlan;
  document: DocumentNode;
  operationName: string | undefined;
}

export type ServiceMap = Record<string, GraphQLDataSource>;

/**
 * Plans subscriptions with Apollo's own query planner (which produces a SubscriptionNode:
 * `primary` fetch upstream, `rest` per event) and runs `rest` per event by presenting the event
 * as the result of the primary fetch: with the fast executor (the same results as Apollo's
 * `executeQueryPlan`), or with `executeQueryPlan` itself for plans the fast one does not support.
 *
 * Takes the supergraph SDL, or the operation executor already built from it (which also serves
 * queries and mutations: the supergraph is built once).
 */
export function createSubscriptionPlanner(source: string | OperationExecutor) {
  const executor = typeof source === 'string' ? createOperationExecutor({ supergraphSdl: source }) : source;
  const { apiSchema, supergraphSchema, queryPlanner: planner } = executor;
  const schema: GraphQLSchema = executor.schema;
  const plans = new Map<string, SubscriptionPlan>();
  const MAX_CACHED_PLANS = 1_000;
  // Transports share parsed documents between clients: skip printing and hashing them again.
  const byDocument = new WeakMap<DocumentNode, SubscriptionPlan>();
  const operationContexts = new WeakMap<SubscriptionPlan, ReturnType<typeof buildOperationContext>>();
  const compiledEvents = new WeakMap<SubscriptionPlan, CompiledOperation | Unsupported>();

  function plan(document: DocumentNode, operationName: string | undefined): SubscriptionPlan {
    const known = byDocument.get(document);
    if (known && known.operationName === operationName) return known;
    const found = planUncached(document, operationName);
    byDocument.set(document, found);
    return found;
  }

  function planUncached(document: DocumentNode, operationName: string | undefined): SubscriptionPlan {
    const key = createHash('sha256').update(print(document)).update(operationName ?? '').digest('hex');
    const cached = plans.get(key);
    if (cached) return cached;
    const operation = operationFromDocument(apiSchema, document, { operationName });
    const queryPlan = planner.buildQueryPlan(operation);
    const node = queryPlan.node;
    if (node?.kind !== 'Subscription') throw new Error('Not a subscription operation.');
    const primary = node.primary;
    const injected: FetchNode = { ...primary, serviceName: EVENT_SERVICE };
    const perEvent: QueryPlan = {
      kind: 'QueryPlan',
      node: node.rest ? ({ kind: 'Sequence', nodes: [injected, node.rest] } satisfies PlanNode) : injected,
    };
    const result = { primary, perEvent, document, operationName };
    if (plans.size >= MAX_CACHED_PLANS) plans.delete(plans.keys().next().value as string);
    plans.set(key, result);
    return result;
  }

  /** Completes one event: entity fetches from other subgraphs, then shaping to the client's selection. */
  async function executeEvent<TContext extends Record<string, unknown>>(args: {
    plan: SubscriptionPlan;
    event: ExecutionResult;
    variables: Record<string, unknown>;
    serviceMap: ServiceMap;
    context: TContext;
  }): Promise<ExecutionResult> {
    const { plan: subscriptionPlan, event } = args;
    const eventSource: GraphQLDataSource = { process: async () => ({ data: event.data ?? null, errors: event.errors as never }) };
    const serviceMap = { ...args.serviceMap, [EVENT_SERVICE]: eventSource };
    // Depends only on the plan (schema, document, operation name): built once, not per event.
    let operationContext = operationContexts.get(subscriptionPlan);
    if (!operationContext) {
      operationContext = buildOperationContext({
        schema,
        operationDocument: subscriptionPlan.document,
        operationName: subscriptionPlan.operationName,
      });
      operationContexts.set(subscriptionPlan, operationContext);
    }
    let compiled = compiledEvents.get(subscriptionPlan);
    if (compiled === undefined) {
      compiled = executor.compile({ plan: subscriptionPlan.perEvent, document: subscriptionPlan.document, operationName: subscriptionPlan.operationName });
      compiledEvents.set(subscriptionPlan, compiled);
    }
    const requestContext = {
      request: { variables: args.variables, operationName: subscriptionPlan.operationName },
      context: args.context,
      metrics: {},
      document: subscriptionPlan.document,
      operation: operationContext.operation as OperationDefinitionNode,
      operationName: subscriptionPlan.operationName ?? null,
      schema,
    } as unknown as GatewayGraphQLRequestContext<TContext>;
    const result =
      compiled !== UNSUPPORTED
        ? await executor.run(compiled, requestContext, serviceMap)
        : await executeQueryPlan(subscriptionPlan.perEvent, serviceMap, requestContext, operationContext, supergraphSchema, apiSchema);
    // Errors of the event itself name the subgraph that owns the field, not the pseudo-service.
    const errors = result.errors?.map((error) => {
      // A failed entity fetch can surface as a raw Error (e.g. a FetchError with errno/syscall):
      // never serialize its internals to clients (results bypass Apollo Server's error masking).
      if (!(error instanceof GraphQLError)) return createError('INTERNAL_SERVER_ERROR', 'Internal server error.');
      if (error.extensions?.serviceName !== EVENT_SERVICE) return error;
      error.extensions.serviceName = subscriptionPlan.primary.serviceName;
      return error;
    });
    return { data: result.data ?? null, ...(errors?.length ? { errors } : {}) } as ExecutionResult;
  }

  const { scopeOf } = createViewerScopes(executor.supergraphSchema);
  /** Who a plan's results are computed for, for one viewer (the key of shared streams, viewerScope.ts). */
  return { schema, plan, executeEvent, executor, scopeOf };
}

export type SubscriptionPlanner = ReturnType<typeof createSubscriptionPlanner>;
export type { ServiceEndpointDefinition };
