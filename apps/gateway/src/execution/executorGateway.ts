import type {
  GatewayExecutor,
  GatewayGraphQLRequestContext,
  GatewayInterface,
  GatewayLoadResult,
  GatewaySchemaLoadOrUpdateCallback,
} from '@apollo/server-gateway-interface';
import type { GraphQLSchema } from 'graphql';
import { UNSUPPORTED, type OperationExecutor, type ServiceMap } from './operationExecutor';

/** What Apollo Server needs of the gateway it wraps (`ApolloGateway`). */
export type InnerGateway = Pick<GatewayInterface, 'onSchemaLoadOrUpdate' | 'stop'> & {
  load(options: Parameters<GatewayInterface['load']>[0]): Promise<GatewayLoadResult>;
};

export interface ExecutorGatewayOptions {
  gateway: InnerGateway;
  /** The fast executor of the supergraph in use (swapped on hot reload). */
  executor: () => OperationExecutor;
  /** The data sources of that executor's subgraphs (the same objects Apollo's gateway uses). */
  serviceMap: (executor: OperationExecutor) => ServiceMap;
}

/**
 * Apollo Server's `gateway`: `ApolloGateway` for schema loading and hot reload, with queries and
 * mutations run by the fast executor. Apollo's own executor still answers what the fast one does
 * not support, requests validated against another schema than the one the fast executor was built
 * from (during a supergraph switch), requests asking for the query plan
 * (`Apollo-Query-Plan-Experimental`) and requests whose traces are captured for Apollo Studio.
 */
export function createExecutorGateway(options: ExecutorGatewayOptions): GatewayInterface {
  const { gateway } = options;
  // Which API schema and supergraph Apollo Server currently validates against.
  let loaded: { apiSchema: GraphQLSchema; coreSupergraphSdl: string } | undefined;
  const unsubscribe = gateway.onSchemaLoadOrUpdate((schemaContext) => {
    loaded = schemaContext;
  });
  let services: { executor: OperationExecutor; map: ServiceMap } | undefined;

  // Whether the fast executor in use was built from the supergraph Apollo Server validates against
  // (compared once per executor and schema load, not per request).
  let checked: { executor: OperationExecutor; loaded: typeof loaded; matches: boolean } | undefined;

  function fastExecutorFor(requestContext: GatewayGraphQLRequestContext): OperationExecutor | undefined {
    const executor = options.executor();
    if (!loaded || requestContext.schema !== loaded.apiSchema) return undefined;
    if (checked?.executor !== executor || checked.loaded !== loaded) {
      checked = { executor, loaded, matches: executor.supergraphSdl === loaded.coreSupergraphSdl };
    }
    if (!checked.matches) return undefined;
    if (requestContext.metrics?.captureTraces) return undefined;
    if (requestContext.request.http?.headers.get('Apollo-Query-Plan-Experimental')) return undefined;
    return executor;
  }

  return {
    onSchemaLoadOrUpdate: (callback: GatewaySchemaLoadOrUpdateCallback) => gateway.onSchemaLoadOrUpdate(callback),
    async load(loadOptions) {
      const result = await gateway.load(loadOptions);
      const apolloExecutor = result.executor;
      if (!apolloExecutor) return result;
      const executor: GatewayExecutor = async (requestContext) => {
        const fast = fastExecutorFor(requestContext);
        if (!fast) return apolloExecutor(requestContext);
        if (services?.executor !== fast) services = { executor: fast, map: options.serviceMap(fast) };
        const answer = await fast.execute(requestContext, services.map);
        return answer === UNSUPPORTED ? apolloExecutor(requestContext) : answer;
      };
      return { ...result, executor };
    },
    async stop() {
      unsubscribe();
      await gateway.stop();
    },
  };
}
