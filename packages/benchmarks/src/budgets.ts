/**
 * Benchmarks drive the platform from one address with a few users, far past the gateway's
 * per-client rate budgets (600 operations and 10 auth mutations per minute by default). These
 * budgets keep the limiter running, so its cost is measured, without ever refusing a request.
 */
export const BENCHMARK_RATE_BUDGETS = {
  RATE_LIMIT_POINTS: '1000000000',
  AUTH_RATE_LIMIT_POINTS: '1000000000',
} as const;
