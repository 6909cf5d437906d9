import { counter, createLabelBucket, histogram, type Registry } from './metrics';

export interface GraphQLMetrics {
  /** Records one finished GraphQL request. `operation` is the operation name (never the query text). */
  record(request: { operation: string | undefined; type: string | undefined; seconds: number; errorCodes: readonly string[] }): void;
}

/** Distinct operation names kept as label values per service; later ones are counted as `__other`. */
export const MAX_OPERATION_NAMES = 500;

/** Requests, errors and latency per operation (gateway and subgraphs alike). */
export function createGraphQLMetrics(registry: Registry): GraphQLMetrics {
  const requests = counter(registry, 'meridian_graphql_requests_total', 'GraphQL requests by operation, type and outcome (ok | error).', [
    'operation',
    'type',
    'outcome',
  ] as const);
  const errors = counter(registry, 'meridian_graphql_errors_total', 'GraphQL errors returned, by operation and error code.', [
    'operation',
    'code',
  ] as const);
  const duration = histogram(registry, 'meridian_graphql_request_duration_seconds', 'GraphQL request latency, by operation and type.', [
    'operation',
    'type',
  ] as const);
  const operations = createLabelBucket(MAX_OPERATION_NAMES);
  const codes = createLabelBucket(100);
  return {
    record({ operation, type, seconds, errorCodes }) {
      // No type: the document did not parse or validate, so the name cannot be trusted either.
      const op = type === undefined ? '__invalid' : operation ? operations(operation) : '__anonymous';
      const kind = type ?? 'unknown';
      requests.inc({ operation: op, type: kind, outcome: errorCodes.length > 0 ? 'error' : 'ok' });
      duration.observe({ operation: op, type: kind }, seconds);
      for (const code of errorCodes) errors.inc({ operation: op, code: codes(code) });
    },
  };
}
