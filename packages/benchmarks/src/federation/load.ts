/**
 * Load driver (runs in its own process): autocannon at a fixed concurrency, every response body
 * checked against the expected result (`verifyBody`), latency of every response recorded.
 */
import { isDeepStrictEqual } from 'node:util';
import autocannon from 'autocannon';
import { percentile } from '../report';

export interface LoadSpec {
  url: string;
  /** The JSON request body. */
  body: string;
  headers?: Record<string, string>;
  /** The response every request must get (compared as JSON). */
  expected: unknown;
  connections: number;
  durationS: number;
  /** Seconds after which a response counts as a timeout. */
  timeoutS: number;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number; mean: number };
  /** Responses that were not 2xx, not the expected body, or failed (any > 0 makes the run invalid). */
  non2xx: number;
  mismatches: number;
  errors: number;
  timeouts: number;
  valid: boolean;
  /** The beginning of the first wrong body, to say what went wrong. */
  firstMismatch?: string;
}

export function bodyMatches(expected: unknown): (body: string) => boolean {
  const exact = JSON.stringify(expected);
  return (body) => {
    if (body === exact) return true;
    try {
      return isDeepStrictEqual(JSON.parse(body), expected);
    } catch {
      return false;
    }
  };
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const latencies: number[] = [];
  const matches = bodyMatches(spec.expected);
  let firstMismatch: string | undefined;
  let done!: (result: autocannon.Result) => void;
  let failed!: (error: Error) => void;
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    done = resolve;
    failed = reject;
  });
  // The callback form returns the instance, whose 'response' events give each latency.
  const instance = autocannon({
    url: spec.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...spec.headers },
    body: spec.body,
    connections: spec.connections,
    duration: spec.durationS,
    verifyBody: (raw: string | Buffer | undefined) => {
      const body = raw === undefined ? '' : raw.toString();
      if (matches(body)) return true;
      firstMismatch ??= body.slice(0, 1000);
      return false;
    },
    timeout: spec.timeoutS,
  }, (error, result) => (error ? failed(error) : done(result)));
  instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
    latencies.push(responseTime);
  });
  const result = await finished;
  latencies.sort((a, b) => a - b);
  const seconds = result.duration;
  const round = (value: number) => Math.round(value * 100) / 100;
  const invalid = result.non2xx + result.mismatches + result.errors + result.timeouts;
  return {
    requests: latencies.length,
    seconds,
    requestsPerSecond: round(latencies.length / seconds),
    latencyMs: {
      p50: round(percentile(latencies, 50)),
      p95: round(percentile(latencies, 95)),
      p99: round(percentile(latencies, 99)),
      max: round(latencies[latencies.length - 1] ?? NaN),
      mean: round(latencies.reduce((sum, value) => sum + value, 0) / Math.max(1, latencies.length)),
    },
    non2xx: result.non2xx,
    mismatches: result.mismatches,
    errors: result.errors,
    timeouts: result.timeouts,
    valid: invalid === 0 && latencies.length > 0,
    ...(firstMismatch === undefined ? {} : { firstMismatch }),
  };
}
