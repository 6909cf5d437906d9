import type Redis from 'ioredis';
import { RateLimiterCluster, RateLimiterClusterMaster, RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

export interface RateBudget {
  /** Requests (or operations, or subscription starts) allowed per window. */
  points: number;
  windowSeconds: number;
}

export interface RateLimits {
  /** Every operation of a client: HTTP requests (each operation of a batch), WebSocket operations and subscription starts. */
  general: RateBudget;
  /** Auth mutations (log-in, sign-up, refresh, password reset, MFA): each such root field counts. */
  auth: RateBudget;
}

export const DEFAULT_RATE_LIMITS: RateLimits = {
  general: { points: 600, windowSeconds: 60 },
  auth: { points: 10, windowSeconds: 60 },
};

export type RateLimitKind = keyof RateLimits;

/**
 * In the primary of GATEWAY_WORKERS processes (before they are forked): keeps the rate budgets the
 * workers share when the gateway has no Redis (`acrossWorkers` below).
 */
export function keepWorkersRateBudgets(): void {
  new RateLimiterClusterMaster();
}

/** How long a worker waits for the primary's answer before it counts on its own budget. */
const PRIMARY_TIMEOUT_MS = 1_000;

/**
 * Fixed-window budgets per client key, in Redis when the gateway has one (every replica draws
 * on the same budget) and in memory otherwise. When Redis fails, each replica falls back to its
 * own in-memory budget (rate-limiter-flexible's insurance limiter) rather than letting every
 * request through or failing them all.
 *
 * `acrossWorkers` (a GATEWAY_WORKERS worker, whose primary runs `RateLimiterClusterMaster`):
 * without Redis, the budgets are kept in the primary, so that a client's requests count once
 * whichever worker they reach; if the primary does not answer, the worker's own budget applies.
 */
export function createRateLimiters(options: { limits: RateLimits; redis?: Redis; keyPrefix: string; acrossWorkers?: boolean }) {
  const build = (kind: RateLimitKind): { limiter: RateLimiterAbstract; fallback?: RateLimiterAbstract } => {
    const budget = options.limits[kind];
    const base = { points: budget.points, duration: budget.windowSeconds, keyPrefix: `${options.keyPrefix}rl:${kind}` };
    if (options.redis) return { limiter: new RateLimiterRedis({ ...base, storeClient: options.redis, insuranceLimiter: new RateLimiterMemory(base) }) };
    if (options.acrossWorkers) return { limiter: new RateLimiterCluster({ ...base, timeoutMs: PRIMARY_TIMEOUT_MS }), fallback: new RateLimiterMemory(base) };
    return { limiter: new RateLimiterMemory(base) };
  };
  const limiters: Record<RateLimitKind, ReturnType<typeof build>> = { general: build('general'), auth: build('auth') };

  return {
    limits: options.limits,
    /** Takes `points` from the client's budget: undefined when allowed, else seconds to wait. */
    async consume(kind: RateLimitKind, clientKey: string, points = 1): Promise<number | undefined> {
      const { limiter, fallback } = limiters[kind];
      try {
        try {
          await limiter.consume(clientKey, points);
        } catch (failure) {
          if (failure instanceof RateLimiterRes || !fallback) throw failure;
          await fallback.consume(clientKey, points);
        }
        return undefined;
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) return Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        throw rejection;
      }
    },
  };
}

export type RateLimiters = ReturnType<typeof createRateLimiters>;
