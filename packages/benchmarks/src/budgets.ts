/**
 * Benchmarks drive the platform from one address with a few users, far past the gateway's
 * per-client rate budgets (600 operations and 10 auth mutations per minute by default). These
 * budgets keep the limiter running, so its cost is measured, without ever refusing a request.
 */
export const BENCHMARK_RATE_BUDGETS = {
  RATE_LIMIT_POINTS: '1000000000',
  AUTH_RATE_LIMIT_POINTS: '1000000000',
} as const;

/**
 * The public benchmark's query nests 8 levels deep with lists inside lists: past the gateway's
 * default operation limits (depth 6, cost 5000), which an operator raises for such a workload.
 */
export const BENCHMARK_OPERATION_LIMITS = {
  MAX_QUERY_DEPTH: '20',
  MAX_QUERY_COST: '10000000',
  MAX_TOKENS: '10000',
} as const;
