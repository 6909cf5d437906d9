import cluster from 'node:cluster';
import { AggregatorRegistry, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Metrics of a service that runs as several worker processes on one port (`runWorkers` in
 * service-kit). A scrape reaches one worker, chosen by the kernel or the primary; answering with
 * that worker's numbers alone would make every counter jump between workers. So a worker asks
 * the primary, which gathers every worker's registries through prom-client's AggregatorRegistry
 * (counters and histograms summed, gauges as each metric's aggregator says) and hands back the
 * Prometheus text. The primary adds its own process metrics, as `meridian_primary_*`: it relays the
 * workers' messages (service-kit's workerPeers), so its CPU and memory are the service's too.
 */

/** Set by `runWorkers` in the environment of the workers it forks (not in other cluster setups, e.g. PM2's). */
export const CLUSTER_WORKER_ENV = 'MERIDIAN_CLUSTER_WORKER';
const REQUEST = 'meridian:cluster-metrics';
const REPLY = 'meridian:cluster-metrics-reply';
const TIMEOUT_MS = 10_000;

interface MetricsRequest {
  type: typeof REQUEST;
  id: number;
}

interface MetricsReply {
  type: typeof REPLY;
  id: number;
  contentType?: string;
  body?: string;
  error?: string;
}

let serving = false;

/** In the primary: answers workers' metrics requests with the sum over all workers. Idempotent. */
export function serveClusterMetrics(): void {
  if (serving) return;
  serving = true;
  const registry = new AggregatorRegistry();
  const own = new Registry();
  collectDefaultMetrics({ register: own, prefix: 'meridian_primary_' });
  cluster.on('message', (worker, message: unknown) => {
    if ((message as MetricsRequest | undefined)?.type !== REQUEST) return;
    const { id } = message as MetricsRequest;
    const reply = (answer: Omit<MetricsReply, 'type' | 'id'>) => {
      if (worker.isConnected()) worker.send({ type: REPLY, id, ...answer } satisfies MetricsReply);
    };
    Promise.all([registry.clusterMetrics(), own.metrics()]).then(
      ([workers, primary]) => reply({ contentType: registry.contentType, body: `${workers}\n${primary}` }),
      (error: unknown) => reply({ error: error instanceof Error ? error.message : String(error) }),
    );
  });
}

let nextRequestId = 1;
const pending = new Map<number, { resolve: (reply: MetricsReply) => void; timer: NodeJS.Timeout }>();
let listening = false;

function onReply(message: unknown): void {
  if ((message as MetricsReply | undefined)?.type !== REPLY) return;
  const reply = message as MetricsReply;
  const waiting = pending.get(reply.id);
  if (!waiting) return;
  pending.delete(reply.id);
  clearTimeout(waiting.timer);
  waiting.resolve(reply);
}

/** True in a worker process forked by `runWorkers` (a cluster worker whose primary answers metrics requests). */
export function inClusterWorker(): boolean {
  return cluster.isWorker && process.env[CLUSTER_WORKER_ENV] === '1' && typeof process.send === 'function';
}

/**
 * In a worker: lets the primary collect `registries` (prom-client's own worker listener), and
 * renders the whole cluster's metrics by asking the primary.
 */
export function clusterMetricsRenderer(registries: readonly Registry[]): () => Promise<{ contentType: string; body: string }> {
  // The constructor installs prom-client's listener for the primary's collection requests.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([...registries]);
  if (!listening) {
    listening = true;
    process.on('message', onReply);
  }
  return () =>
    new Promise((resolve, reject) => {
      const id = nextRequestId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`the primary process did not answer a metrics request within ${TIMEOUT_MS} ms`));
      }, TIMEOUT_MS);
      pending.set(id, {
        timer,
        resolve: (reply) => {
          if (reply.error !== undefined || reply.body === undefined) reject(new Error(`collecting the workers' metrics failed: ${reply.error ?? 'no answer'}`));
          else resolve({ contentType: reply.contentType ?? AggregatorRegistry.PROMETHEUS_CONTENT_TYPE, body: reply.body });
        },
      });
      process.send!({ type: REQUEST, id } satisfies MetricsRequest);
    });
}
