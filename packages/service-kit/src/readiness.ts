import type { RequestHandler } from 'express';

/** One dependency a service needs to serve: resolves when it answers, throws (with why) when not. */
export type ReadinessCheck = () => Promise<void>;

export interface ReadinessReport {
  status: 'ready' | 'unavailable';
  service: string;
  /** Every check by name: "ok" or why it failed. */
  checks: Record<string, string>;
  /** What is not ready, one line (absent when ready). */
  reason?: string;
}

/**
 * `/readyz`: runs every registered check in parallel, each bounded by `timeoutMs`, and answers
 * 200 when all pass, else 503 with a JSON body naming what is not ready. Once `drain()` was
 * called (shutdown) it answers 503 "shutting down" so load balancers stop sending traffic.
 */
export function createReadiness(service: string, initialTimeoutMs = 2_000) {
  let timeoutMs = initialTimeoutMs;
  const checks = new Map<string, ReadinessCheck>();
  let draining = false;

  async function runCheck(check: ReadinessCheck): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        check(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      return 'ok';
    } catch (error) {
      return (error as Error)?.message || String(error);
    } finally {
      clearTimeout(timer);
    }
  }

  async function report(): Promise<ReadinessReport> {
    const names = [...checks.keys()];
    const results = await Promise.all([...checks.values()].map(runCheck));
    const entries = Object.fromEntries(names.map((name, index) => [name, results[index] as string]));
    const failing = names.filter((name) => entries[name] !== 'ok').map((name) => `${name}: ${entries[name]}`);
    if (draining) failing.unshift('shutting down');
    return failing.length === 0
      ? { status: 'ready', service, checks: entries }
      : { status: 'unavailable', service, checks: entries, reason: failing.join('; ') };
  }

  const handler: RequestHandler = async (_req, res) => {
    const result = await report();
    res.status(result.status === 'ready' ? 200 : 503).json(result);
  };

  return {
    /** Adds (or replaces) a named check, e.g. "database", "redis", "subgraph:user". */
    add(name: string, check: ReadinessCheck) {
      checks.set(name, check);
    },
    /** Changes the bound of each check. */
    setTimeoutMs(value: number) {
      timeoutMs = value;
    },
    /** From now on not ready: the service is shutting down. */
    drain() {
      draining = true;
    },
    get draining() {
      return draining;
    },
    report,
    handler,
  };
}

export type Readiness = ReturnType<typeof createReadiness>;

/**
 * While shutting down, every answer (also of a request that arrived before) asks the client to
 * close its keep-alive connection, decided when the headers are written: no client sends a new
 * request on a connection the server is about to close.
 */
export function closeConnectionsWhileDraining(readiness: Pick<Readiness, 'draining'>): RequestHandler {
  return (_req, res, next) => {
    const writeHead = res.writeHead;
    res.writeHead = function (this: typeof res, ...args: Parameters<typeof res.writeHead>) {
      if (readiness.draining && !this.headersSent) this.setHeader('connection', 'close');
      return writeHead.apply(this, args);
    } as typeof res.writeHead;
    next();
  };
}
