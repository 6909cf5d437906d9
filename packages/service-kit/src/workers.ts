import cluster, { type Worker } from 'node:cluster';
import { CLUSTER_WORKER_ENV, serveClusterMetrics } from '@meridian/observability';
import { runMain } from './lifecycle';
import { createPeerRelay } from './workerPeers';

/** A worker tells the primary it has started (its `start` resolved: listening, ready to serve). */
const READY = 'meridian:worker-ready';
/** Replacements of crashed workers allowed within CRASH_WINDOW_MS before the primary gives up. */
const MAX_RESTARTS = 5;
const CRASH_WINDOW_MS = 60_000;
const RESTART_DELAY_MS = 1_000;
/** Time the workers have to stop beyond their own bound before the primary kills them. */
const KILL_MARGIN_MS = 5_000;

export interface WorkersOptions {
  /** Worker processes; 1 runs the service in this process (plain `runMain`). */
  workers: number;
  /** The workers' own stop bound (SHUTDOWN_TIMEOUT_MS); the primary waits this plus a margin. */
  shutdownTimeoutMs: number;
  log?: (message: string) => void;
  /** Runs in the primary before the workers are forked (state the workers share through it). */
  primary?: () => void;
  /** When the primary kills a worker that reads none of its messages (`DEFAULT_WORKER_STALL` in workerPeers.ts). */
  stall?: { maxQueued?: number; stallMs?: number };
}

/**
 * For main.ts: runs the service as `workers` processes sharing one port (node:cluster), so one
 * host's cores all serve it; a Node.js process runs JavaScript on one core.
 *
 * - Each worker runs `start` under `runMain` (its own graceful stop on SIGINT/SIGTERM).
 * - The primary serves nothing itself. It forks the workers, and exits 1 if one fails before every
 *   worker has started. Later it replaces a worker that dies (at most 5 in a minute, then it stops
 *   the rest and exits 1, leaving the restart to the orchestrator).
 * - On SIGINT/SIGTERM the primary passes SIGTERM on and exits once every worker has: 0 if they
 *   all stopped cleanly, else 1. A worker still running after its bound plus 5 s is killed.
 * - `/metrics` on any worker answers for all of them (see clusterMetrics in observability).
 * - Workers can message each other by slot (`workerPeers`); a replacement takes the dead worker's slot.
 *   The primary also keeps counters the workers share (`acquire` / `release`), and kills a worker
 *   that has stopped reading its messages, so that they do not pile up in the primary.
 */
export function runWorkers(name: string, start: () => Promise<{ stop(): Promise<void>; shutdownTimeoutMs?: number }>, options: WorkersOptions): void {
  const log = options.log ?? console.log;
  if (options.workers <= 1) {
    runMain(name, start, log);
    return;
  }
  if (cluster.isWorker) {
    runMain(
      name,
      async () => {
        const handle = await start();
        process.send?.({ type: READY });
        return handle;
      },
      log,
    );
    return;
  }
  runPrimary(name, options, log);
}

function runPrimary(name: string, options: WorkersOptions, log: (message: string) => void): void {
  serveClusterMetrics();
  options.primary?.();
  const peers = createPeerRelay(options.workers, { stall: options.stall, log: (message) => console.error(`${name}: ${message}`) });
  /** Each worker's slot (0 … workers - 1): its replacement takes the same one. */
  const slots = new Map<Worker, number>();
  const started = new Set<Worker>();
  const restarts: number[] = [];
  let allStarted = false;
  let stopping = false;
  let failed = false;

  const fork = (slot: number) => {
    const worker = cluster.fork({ [CLUSTER_WORKER_ENV]: '1', ...peers.env(slot) });
    peers.adopt(worker, slot);
    slots.set(worker, slot);
    worker.on('message', (message: unknown) => {
      if ((message as { type?: string } | undefined)?.type !== READY) return;
      started.add(worker);
      if (!allStarted && started.size === options.workers) {
        allStarted = true;
        log(`${name}: ${options.workers} workers started (pids ${live().map((each) => each.process.pid).join(', ')})`);
      } else if (allStarted) {
        log(`${name}: worker ${worker.process.pid} started`);
      }
    });
  };
  const live = () => Object.values(cluster.workers ?? {}).filter((each): each is Worker => each !== undefined);

  const stopAll = (reason: string, exitCode: number) => {
    if (stopping) return;
    stopping = true;
    failed ||= exitCode !== 0;
    log(`${name}: ${reason}, stopping ${live().length} workers`);
    const timer = setTimeout(() => {
      console.error(`${name}: workers did not stop within ${options.shutdownTimeoutMs + KILL_MARGIN_MS} ms, killing them`);
      for (const worker of live()) worker.process.kill('SIGKILL');
      failed = true;
    }, options.shutdownTimeoutMs + KILL_MARGIN_MS);
    timer.unref();
    for (const worker of live()) worker.process.kill('SIGTERM');
    if (live().length === 0) process.exit(failed ? 1 : 0);
  };

  cluster.on('exit', (worker, code, signal) => {
    started.delete(worker);
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (stopping) {
      if (code !== 0) failed = true;
      if (live().length === 0) process.exit(failed ? 1 : 0);
      return;
    }
    if (!allStarted) {
      console.error(`${name}: worker ${worker.process.pid} exited (${how}) before every worker had started`);
      stopAll('start failed', 1);
      return;
    }
    const now = Date.now();
    while (restarts.length > 0 && restarts[0]! < now - CRASH_WINDOW_MS) restarts.shift();
    if (restarts.length >= MAX_RESTARTS) {
      console.error(`${name}: worker ${worker.process.pid} exited (${how}); ${MAX_RESTARTS} workers were replaced in the last minute, giving up`);
      stopAll('too many worker exits', 1);
      return;
    }
    restarts.push(now);
    console.error(`${name}: worker ${worker.process.pid} exited (${how}), starting another`);
    const slot = slots.get(worker)!;
    slots.delete(worker);
    setTimeout(() => {
      if (!stopping) fork(slot);
    }, RESTART_DELAY_MS);
  });

  process.once('SIGINT', () => stopAll('SIGINT received', 0));
  process.once('SIGTERM', () => stopAll('SIGTERM received', 0));
  for (let slot = 0; slot < options.workers; slot++) fork(slot);
}
