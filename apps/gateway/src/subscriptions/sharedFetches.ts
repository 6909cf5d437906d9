import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayCacheHint, GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { ServiceMap } from './planner';

/** Which answers may be shared between the scopes of an event. */
interface Outcome {
  response: GatewayGraphQLResponse;
  /** The subgraph's cache hint for this answer (its `Cache-Control`), if it sent one. */
  hint: GatewayCacheHint | undefined;
}

const MAX_REMEMBERED_FETCHES = 1_000;

/**
 * Per-event entity fetches of subscriptions, shared across authorization scopes when the subgraph
 * says the answer is not the viewer's own (ADR 0020).
 *
 * One event reaches every scope's shared stream at about the same time, and each stream runs the
 * same entity fetches (same subgraph, query and representations) with its own token. A fetch that
 * starts while an identical one is in flight waits for it; if the subgraph answered
 * `Cache-Control: max-age=N, public` (N > 0: Apollo Server's cache hints, e.g. `@cacheControl` on
 * the entity type, PRIVATE on a viewer-dependent field), the waiting fetches take a copy of that
 * answer instead of asking again. Any other answer (private, `no-store`, errors, a failure) is not
 * shared: each waiting fetch then asks the subgraph with its own token, and the next fetches of
 * that query stop waiting until an answer is public again. Nothing is kept once a fetch ends: an
 * answer is never older than the fetch it joined.
 */
export function createSharedFetches(options: { onShared?: (serviceName: string) => void } = {}) {
  const inFlight = new Map<string, Promise<Outcome>>();
  /** Per (subgraph, query): whether its last answer could be shared. Unknown counts as yes. */
  const lastShareable = new Map<string, boolean>();
  const wrapped = new WeakMap<ServiceMap, ServiceMap>();

  function remember(queryKey: string, shareable: boolean) {
    if (lastShareable.size >= MAX_REMEMBERED_FETCHES && !lastShareable.has(queryKey)) lastShareable.clear();
    lastShareable.set(queryKey, shareable);
  }

  /** Runs the fetch with a cache policy of its own, to read the subgraph's hint for this answer alone. */
  async function fetchRecordingHint(source: GraphQLDataSource, processOptions: GraphQLDataSourceProcessOptions): Promise<Outcome> {
    let hint: GatewayCacheHint | undefined;
    const incoming = 'incomingRequestContext' in processOptions ? processOptions.incomingRequestContext : undefined;
    const recorder = {
      restrict(received: GatewayCacheHint) {
        hint = received;
      },
    };
    const response = await source.process({
      ...processOptions,
      incomingRequestContext: { ...incoming, overallCachePolicy: recorder },
    } as GraphQLDataSourceProcessOptions);
    if (hint) (incoming?.overallCachePolicy as { restrict?: (hint: GatewayCacheHint) => void } | undefined)?.restrict?.(hint);
    return { response, hint };
  }

  function isShareable({ response, hint }: Outcome): boolean {
    return hint !== undefined && hint.scope === 'PUBLIC' && (hint.maxAge ?? 0) > 0 && !response.errors?.length;
  }

  function share(serviceName: string, source: GraphQLDataSource): GraphQLDataSource {
    return {
      async process(processOptions) {
        const { query, variables } = processOptions.request;
        if (!query) return source.process(processOptions);
        const queryKey = `${serviceName}\0${query}`;
        if (lastShareable.get(queryKey) === false) {
          const outcome = await fetchRecordingHint(source, processOptions);
          remember(queryKey, isShareable(outcome));
          return outcome.response;
        }
        const key = `${queryKey}\0${JSON.stringify(variables ?? {})}`;
        const pending = inFlight.get(key);
        if (pending) {
          const outcome = await pending;
          if (!isShareable(outcome)) return source.process(processOptions);
          options.onShared?.(serviceName);
          return structuredClone(outcome.response);
        }
        const fetching = fetchRecordingHint(source, processOptions).finally(() => inFlight.delete(key));
        inFlight.set(key, fetching);
        const outcome = await fetching;
        const shareable = isShareable(outcome);
        remember(queryKey, shareable);
        // Fetches that joined read the answer after this one's executor has started merging it.
        return shareable ? structuredClone(outcome.response) : outcome.response;
      },
    };
  }

  return {
    /** The same data sources, sharing public answers between identical in-flight fetches. */
    wrap(services: ServiceMap): ServiceMap {
      let result = wrapped.get(services);
      if (!result) {
        result = Object.create(null) as ServiceMap;
        for (const [name, source] of Object.entries(services)) result[name] = share(name, source);
        wrapped.set(services, result);
      }
      return result;
    },
  };
}
