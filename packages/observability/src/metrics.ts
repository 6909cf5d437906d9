import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export { Counter, Gauge, Histogram, Registry };

/** Seconds; from 5 ms to 10 s, enough resolution around typical GraphQL latencies. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Event lag (occurred -> handled), seconds: from 10 ms to 5 minutes. */
export const LAG_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300];

export const OTHER_LABEL = '__other';

/**
 * Keeps a label's values bounded: the first `max` distinct values are kept, later new ones
 * become `__other`. Values that are not GraphQL-name-like (or too long) also become `__other`,
 * so nothing a client sends can grow the series count without bound.
 */
export function createLabelBucket(max: number) {
  const seen = new Set<string>();
  return (value: string): string => {
    if (seen.has(value)) return value;
    if (seen.size >= max || value.length > 100 || !/^[A-Za-z_][\w.:-]*$/.test(value)) return OTHER_LABEL;
    seen.add(value);
    return value;
  };
}

let processRegistry: Registry | undefined;

/**
 * Metrics of the process rather than of one service: Node.js defaults (CPU, memory, event loop,
 * GC) and the event bridge (one bus may serve several services in embedded mode). Every service
 * exposes them next to its own.
 */
export function getProcessRegistry(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: 'meridian_' });
  }
  return processRegistry;
}

/** Get-or-create, so that modules sharing a registry share the metric. */
export function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[]): Counter<L> {
  return (registry.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames, registers: [registry] });
}

export function histogram<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  buckets: number[] = LATENCY_BUCKETS,
): Histogram<L> {
  return (
    (registry.getSingleMetric(name) as Histogram<L> | undefined) ??
    new Histogram({ name, help, labelNames, buckets, registers: [registry] })
  );
}

export function gauge<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  collect?: (this: Gauge<L>) => void | Promise<void>,
): Gauge<L> {
  const existing = registry.getSingleMetric(name) as Gauge<L> | undefined;
  if (existing) return existing;
  return new Gauge({ name, help, labelNames, registers: [registry], ...(collect ? { collect } : {}) });
}

/** A service's own registry; every series gets `service="<name>"`. */
export function createServiceRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  return registry;
}

/** Prometheus text of the service's metrics followed by the process-wide ones. */
export async function renderMetrics(registries: readonly Registry[]): Promise<{ contentType: string; body: string }> {
  const parts = await Promise.all(registries.map((registry) => registry.metrics()));
  return { contentType: registries[0]?.contentType ?? Registry.PROMETHEUS_CONTENT_TYPE, body: parts.join('\n') };
}

/** Seconds since `start` (a `performance.now()` reading). */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}
