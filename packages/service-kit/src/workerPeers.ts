import cluster, { type Worker } from 'node:cluster';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';

/** Set by the primary on every worker it forks: the worker's slot (0-based) and the number of slots. */
export const WORKER_INDEX_ENV = 'MERIDIAN_WORKER_INDEX';
export const WORKER_COUNT_ENV = 'MERIDIAN_WORKER_COUNT';

/** Worker -> primary: my listener is registered, deliver to me. */
const HELLO = 'meridian:peer-hello';
/** Worker -> primary: deliver `payload` to the worker in slot `to`. */
const SEND = 'meridian:peer-send';
/** Primary -> worker: `payload` from the worker in slot `from`. */
const DELIVER = 'meridian:peer-message';
/** Primary -> worker: the worker in slot `index` is gone; nothing more comes from it. */
const GONE = 'meridian:peer-gone';
/** Primary -> worker: your message to slot `to` could not be delivered (no worker ready there). */
const UNDELIVERABLE = 'meridian:peer-undeliverable';
/**
 * Worker -> primary: for each item, take one unit of counter `key` if fewer than `limit` are taken
 * (answered with one ACQUIRED for the batch). A worker batches what it asks within one turn of its
 * event loop: a burst of subscriptions costs a few messages, not two per subscription.
 */
const ACQUIRE = 'meridian:count-acquire';
const ACQUIRED = 'meridian:count-acquired';
/** Worker -> primary: give back one unit of each counter in `keys` (batched like ACQUIRE). */
const RELEASE = 'meridian:count-release';

/**
 * When the primary gives up on a worker that stopped reading its messages. A worker reads its
 * channel on its event loop; one that stalls (a runaway computation, a GC storm) lets the others'
 * relayed messages pile up in the primary's memory. Once more than `maxQueued` wait for it and
 * none has gone out for `stallMs`, the primary kills it: its clients reconnect, its peers get
 * `onGone`, and a replacement takes its slot. A busy worker that still reads is left alone.
 */
export const DEFAULT_WORKER_STALL = { maxQueued: 10_000, stallMs: 10_000 };

type Envelope =
  | { type: typeof HELLO }
  | { type: typeof SEND; to: number; payload: unknown }
  | { type: typeof DELIVER; from: number; payload: unknown }
  | { type: typeof GONE; index: number }
  | { type: typeof UNDELIVERABLE; to: number; payload: unknown }
  | { type: typeof ACQUIRE; items: { id: number; key: string; limit: number }[] }
  | { type: typeof ACQUIRED; granted: [id: number, granted: boolean][] }
  | { type: typeof RELEASE; keys: string[] };

/**
 * The other workers of this service, seen from one worker: messages by slot, through the primary
 * (node:cluster has no channel between workers). Messages between two workers arrive in the order
 * they were sent. A worker that dies is announced with `onGone` to every other one, after the last
 * message it sent.
 */
export interface WorkerPeers {
  /** This worker's slot, 0 … count - 1; a replacement takes the slot of the worker it replaces. */
  readonly index: number;
  readonly count: number;
  send(to: number, payload: unknown): void;
  onMessage(listener: (from: number, payload: unknown) => void): void;
  onGone(listener: (index: number) => void): void;
  /** A message this worker sent found no worker ready in its slot (it died, or its replacement is starting). */
  onUndeliverable(listener: (to: number, payload: unknown) => void): void;
  /**
   * Counters shared by every worker, kept by the primary (a per-user limit that must hold across
   * the workers). `acquire` takes one unit of `key` if fewer than `limit` are taken, and answers
   * whether it did; `release` gives one back. The units a worker holds are given back when it dies.
   */
  acquire(key: string, limit: number): Promise<boolean>;
  release(key: string): void;
}

let peers: WorkerPeers | undefined | null = null;

/**
 * In a worker forked by `runWorkers` (or another primary using `createPeerRelay`): its peers.
 * Undefined in a process that is not such a worker (one process serves alone). One instance per
 * process; messages reach it once it has been asked for.
 */
export function workerPeers(): WorkerPeers | undefined {
  if (peers !== null) return peers;
  const index = Number(process.env[WORKER_INDEX_ENV]);
  const count = Number(process.env[WORKER_COUNT_ENV]);
  const send = process.send?.bind(process);
  if (!cluster.isWorker || !send || !Number.isInteger(index) || !Number.isInteger(count) || count < 2) {
    peers = undefined;
    return peers;
  }
  const messageListeners: ((from: number, payload: unknown) => void)[] = [];
  const goneListeners: ((index: number) => void)[] = [];
  const undeliverableListeners: ((to: number, payload: unknown) => void)[] = [];
  /** Answers awaited from the primary, by request id. */
  const acquiring = new Map<number, (granted: boolean) => void>();
  let nextAcquire = 1;
  const onEnvelope = (raw: unknown) => {
    const envelope = raw as Envelope;
    if (envelope?.type === ACQUIRED) {
      for (const [id, granted] of envelope.granted) {
        acquiring.get(id)?.(granted);
        acquiring.delete(id);
      }
    } else if (envelope?.type === DELIVER) for (const listener of messageListeners) listener(envelope.from, envelope.payload);
    else if (envelope?.type === GONE) for (const listener of goneListeners) listener(envelope.index);
    else if (envelope?.type === UNDELIVERABLE) for (const listener of undeliverableListeners) listener(envelope.to, envelope.payload);
  };
  process.on('message', onEnvelope);
  send({ type: HELLO } satisfies Envelope);
  /** What this turn of the event loop asks of the counters, sent together once it ends. */
  let toAcquire: { id: number; key: string; limit: number }[] = [];
  let toRelease: string[] = [];
  const flushCounters = () => {
    if (!process.connected) {
      for (const { id } of toAcquire) acquiring.get(id)?.(true);
      toAcquire = [];
      toRelease = [];
      return;
    }
    if (toAcquire.length) send({ type: ACQUIRE, items: toAcquire } satisfies Envelope);
    if (toRelease.length) send({ type: RELEASE, keys: toRelease } satisfies Envelope);
    toAcquire = [];
    toRelease = [];
  };
  const scheduleFlush = () => {
    if (toAcquire.length + toRelease.length === 1) setImmediate(flushCounters);
  };
  peers = {
    index,
    count,
    send: (to, payload) => {
      if (process.connected) send({ type: SEND, to, payload } satisfies Envelope);
    },
    onMessage: (listener) => void messageListeners.push(listener),
    onGone: (listener) => void goneListeners.push(listener),
    onUndeliverable: (listener) => void undeliverableListeners.push(listener),
    acquire: (key, limit) =>
      new Promise<boolean>((resolve) => {
        // Without the primary this worker is on its way out; its own limits still apply meanwhile.
        if (!process.connected) return resolve(true);
        const id = nextAcquire++;
        acquiring.set(id, (granted) => {
          acquiring.delete(id);
          resolve(granted);
        });
        toAcquire.push({ id, key, limit });
        scheduleFlush();
      }),
    release: (key) => {
      if (!process.connected) return;
      toRelease.push(key);
      scheduleFlush();
    },
  };
  process.once('disconnect', () => {
    for (const resolve of acquiring.values()) resolve(true);
    acquiring.clear();
  });
  return peers;
}

/** How often the primary looks at whether to collect its young generation (`startYoungCollections`). */
export const PRIMARY_YOUNG_GC_INTERVAL_MS = 50;

/**
 * Keeps a primary's native memory from piling up behind garbage its heap does not notice.
 *
 * Every connection the primary hands to a worker (node:cluster's round robin) and every message it
 * relays leaves a small JavaScript object that holds native memory (a socket handle, a write
 * request) until it is collected: a few KB of native memory for a few hundred bytes of heap. V8
 * collects its young generation only after ~16 MB of JavaScript allocations, so a burst of 10,000
 * connections and subscriptions left 35–43 MB of native memory behind, kept in RSS afterwards
 * (measured in the subscription benchmark, ADR 0022). Every 50 ms in which the primary's event loop
 * did some work (1 ms or more), it collects its young generation while those objects are still in
 * it: well under a millisecond in a process that holds so little. An idle primary does nothing.
 *
 * `gc` is reached through V8's `--expose-gc`, set at run time (the flag applies to new contexts).
 * If that fails, nothing is done.
 */
let youngCollections = false;

function startYoungCollections(intervalMs: number): void {
  // One timer per process, however many relays it creates.
  if (youngCollections) return;
  youngCollections = true;
  let gc: ((options: { type: 'minor' }) => void) | undefined;
  try {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as typeof gc;
  } catch {
    return;
  }
  if (typeof gc !== 'function') return;
  const collect = gc;
  let last = performance.eventLoopUtilization();
  setInterval(() => {
    const now = performance.eventLoopUtilization();
    const busyMs = performance.eventLoopUtilization(now, last).active;
    last = now;
    if (busyMs >= 1) collect({ type: 'minor' });
  }, intervalMs).unref();
}

/**
 * The primary's side of `workerPeers`: fork each worker with `env(slot)`, then `adopt` it. Messages
 * are delivered only to a worker that has said hello (its listener is registered); for any other
 * slot the sender is told, so nothing waits on a message that was dropped. The primary also keeps
 * the shared counters (`acquire` / `release`), and kills a worker that stops reading its messages
 * (`DEFAULT_WORKER_STALL`).
 */
export function createPeerRelay(count: number, options: { stall?: Partial<typeof DEFAULT_WORKER_STALL>; log?: (message: string) => void } = {}) {
  const stall = { ...DEFAULT_WORKER_STALL, ...options.stall };
  startYoungCollections(PRIMARY_YOUNG_GC_INTERVAL_MS);
  const log = options.log ?? ((message: string) => console.error(message));
  const ready = new Map<number, Worker>();
  /** Per worker: messages sent to it and not yet written to its channel, and when one last went out. */
  const waiting = new Map<Worker, { count: number; since: number }>();
  const killed = new WeakSet<Worker>();
  /** Units taken of each shared counter, across the workers. */
  const counts = new Map<string, number>();

  const add = (map: Map<string, number>, key: string, delta: number) => {
    const value = (map.get(key) ?? 0) + delta;
    if (value > 0) map.set(key, value);
    else map.delete(key);
  };

  const deliver = (target: Worker, envelope: Envelope) => {
    if (killed.has(target)) return; // its peers hear of it (`GONE`) once its channel closes
    let entry = waiting.get(target);
    if (!entry) waiting.set(target, (entry = { count: 0, since: Date.now() }));
    const queue = entry;
    queue.count += 1;
    target.send(envelope, undefined, () => {
      queue.count -= 1;
      queue.since = Date.now();
      if (queue.count === 0 && waiting.get(target) === queue) waiting.delete(target);
    });
  };

  const watchdog = setInterval(() => {
    const now = Date.now();
    for (const [worker, queue] of waiting) {
      if (queue.count <= stall.maxQueued || now - queue.since < stall.stallMs) continue;
      killed.add(worker);
      waiting.delete(worker);
      log(`worker ${worker.process.pid} has read none of ${queue.count} messages for ${now - queue.since} ms: killing it`);
      worker.process.kill('SIGKILL');
    }
  }, Math.min(1_000, stall.stallMs / 4));
  watchdog.unref();

  return {
    env: (index: number): Record<string, string> => ({ [WORKER_INDEX_ENV]: String(index), [WORKER_COUNT_ENV]: String(count) }),
    adopt(worker: Worker, index: number) {
      /** The units this worker holds, given back when it dies. */
      const mine = new Map<string, number>();
      worker.on('message', (raw: unknown) => {
        const envelope = raw as Envelope;
        if (envelope?.type === HELLO) {
          ready.set(index, worker);
        } else if (envelope?.type === SEND) {
          const target = ready.get(envelope.to);
          if (target?.isConnected()) deliver(target, { type: DELIVER, from: index, payload: envelope.payload });
          else if (worker.isConnected()) deliver(worker, { type: UNDELIVERABLE, to: envelope.to, payload: envelope.payload });
        } else if (envelope?.type === ACQUIRE) {
          const answers: [number, boolean][] = envelope.items.map(({ id, key, limit }) => {
            const granted = (counts.get(key) ?? 0) < limit;
            if (granted) {
              add(counts, key, 1);
              add(mine, key, 1);
            }
            return [id, granted];
          });
          if (worker.isConnected()) deliver(worker, { type: ACQUIRED, granted: answers });
        } else if (envelope?.type === RELEASE) {
          for (const key of envelope.keys) {
            // Only what this worker holds: a late release after a restart cannot free another's unit.
            if (!mine.has(key)) continue;
            add(mine, key, -1);
            add(counts, key, -1);
          }
        }
      });
      // Once its channel is closed: every message it sent before has been read and delivered.
      worker.on('disconnect', () => {
        for (const [key, units] of mine) add(counts, key, -units);
        mine.clear();
        waiting.delete(worker);
        if (ready.get(index) !== worker) return;
        ready.delete(index);
        for (const other of ready.values()) if (other.isConnected()) deliver(other, { type: GONE, index });
      });
    },
  };
}
