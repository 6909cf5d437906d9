/**
 * The two pieces of `@apollo/gateway` the gateway still runs (operation contexts, and
 * `executeQueryPlan` for what the fast executor does not support), imported from their own
 * modules: the package's entry point would load `ApolloGateway` and all it brings.
 */
import type { executeQueryPlan as ApolloExecuteQueryPlan } from '@apollo/gateway/dist/executeQueryPlan';

export { buildOperationContext } from '@apollo/gateway/dist/operationContext';

let loaded: typeof ApolloExecuteQueryPlan | undefined;

/**
 * Apollo's `executeQueryPlan`, loaded on first use. Its module tree (OpenTelemetry metrics and
 * resource detectors, usage-reporting protobufs, node-fetch) is ~15 MB of heap that a gateway
 * whose operations all run on the fast executor never needs; V8 grows the heap to a multiple of
 * what the process holds (docs/benchmarks.md).
 */
export function executeQueryPlan(...args: Parameters<typeof ApolloExecuteQueryPlan>): ReturnType<typeof ApolloExecuteQueryPlan> {
  loaded ??= (require('@apollo/gateway/dist/executeQueryPlan') as { executeQueryPlan: typeof ApolloExecuteQueryPlan }).executeQueryPlan;
  return loaded(...args);
}
