import cluster, { type Worker } from 'node:cluster';

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

type Envelope =
  | { type: typeof HELLO }
  | { type: typeof SEND; to: number; payload: unknown }
  | { type: typeof DELIVER; from: number; payload: unknown }
  | { type: typeof GONE; index: number }
  | { type: typeof UNDELIVERABLE; to: number; payload: unknown };

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
  const onEnvelope = (raw: unknown) => {
    const envelope = raw as Envelope;
    if (envelope?.type === DELIVER) for (const listener of messageListeners) listener(envelope.from, envelope.payload);
    else if (envelope?.type === GONE) for (const listener of goneListeners) listener(envelope.index);
    else if (envelope?.type === UNDELIVERABLE) for (const listener of undeliverableListeners) listener(envelope.to, envelope.payload);
  };
  process.on('message', onEnvelope);
  send({ type: HELLO } satisfies Envelope);
  peers = {
    index,
    count,
    send: (to, payload) => {
      if (process.connected) send({ type: SEND, to, payload } satisfies Envelope);
    },
    onMessage: (listener) => void messageListeners.push(listener),
    onGone: (listener) => void goneListeners.push(listener),
    onUndeliverable: (listener) => void undeliverableListeners.push(listener),
  };
  return peers;
}

/**
 * The primary's side of `workerPeers`: fork each worker with `env(slot)`, then `adopt` it. Messages
 * are delivered only to a worker that has said hello (its listener is registered); for any other
 * slot the sender is told, so nothing waits on a message that was dropped.
 */
export function createPeerRelay(count: number) {
  const ready = new Map<number, Worker>();
  return {
    env: (index: number): Record<string, string> => ({ [WORKER_INDEX_ENV]: String(index), [WORKER_COUNT_ENV]: String(count) }),
    adopt(worker: Worker, index: number) {
      worker.on('message', (raw: unknown) => {
        const envelope = raw as Envelope;
        if (envelope?.type === HELLO) {
          ready.set(index, worker);
        } else if (envelope?.type === SEND) {
          const target = ready.get(envelope.to);
          if (target?.isConnected()) target.send({ type: DELIVER, from: index, payload: envelope.payload } satisfies Envelope);
          else if (worker.isConnected()) worker.send({ type: UNDELIVERABLE, to: envelope.to, payload: envelope.payload } satisfies Envelope);
        }
      });
      // Once its channel is closed: every message it sent before has been read and delivered.
      worker.on('disconnect', () => {
        if (ready.get(index) !== worker) return;
        ready.delete(index);
        for (const other of ready.values()) if (other.isConnected()) other.send({ type: GONE, index } satisfies Envelope);
      });
    },
  };
}
