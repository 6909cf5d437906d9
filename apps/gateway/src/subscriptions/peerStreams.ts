import { GraphQLError, parse, print, type DocumentNode, type ExecutionResult } from 'graphql';
import { createError } from '@meridian/errors';
import { contextFromTraceparent, currentTraceparent, otelContext } from '@meridian/observability';
import type { WorkerPeers } from '@meridian/service-kit';
import type { SharedStream, SubscribeArgs } from './hub';
import type { SubscriptionPlanner } from './planner';
import type { Subscriber, SubscriberSink } from './subscriber';

/** What a worker sends the owner of a key to have its clients served (JSON: it crosses processes). */
interface RelayedSubscription {
  query: string;
  operationName?: string;
  variables: Record<string, unknown>;
  authorization?: string;
  scope: string;
  /** The subscribing client's context, as `SubscribeArgs.context` (plain data: viewer, request id, client). */
  context: Record<string, unknown>;
  /** The set-up span of the first subscriber: the owner's upstream subscription continues its trace. */
  traceparent?: string;
}

interface PortableError {
  message: string;
  extensions?: Record<string, unknown>;
}

/**
 * The messages between workers, per relayed stream (`id` is chosen by the worker whose clients
 * subscribe; a stream that ends and starts again gets a new one, so late messages are ignored).
 */
type PeerMessage =
  | { t: 'subscribe'; id: number; request: RelayedSubscription }
  | { t: 'unsubscribe'; id: number }
  /** The relayed stream's clients now include one whose token lasts longer: fetch with theirs. */
  | { t: 'context'; id: number; context: Record<string, unknown> }
  | { t: 'event'; id: number; json: string }
  | { t: 'end'; id: number; errors?: PortableError[] };

const interrupted = () =>
  createError('SUBSCRIPTION_INTERRUPTED', 'The gateway worker holding this subscription stopped; resubscribe with your last cursor.');

/**
 * Shares a gateway's upstream subscriptions between its workers (GATEWAY_WORKERS > 1, ADR 0022).
 *
 * Each stream key (operation, variables, scope) belongs to one worker, chosen by the key's hash, so
 * that however the clients of a user spread over the workers, the gateway holds one upstream
 * subscription for them and completes each event (entity fetches) once.
 *
 * - A worker whose client subscribes to a key it does not own opens a relayed stream: it asks the
 *   owner, which adds one subscriber for that worker to its own stream (starting it if needed) and
 *   sends it every result, as the JSON it writes to its own clients. The relayed stream fans it out.
 * - The last client leaving ends the relayed stream and the owner's subscriber for it.
 * - When the owner ends the stream (subgraph gone, reload, shutdown), its error reaches the clients.
 * - When the owner dies, or is not ready, the relayed streams end with SUBSCRIPTION_INTERRUPTED,
 *   and the clients resubscribe with their last cursor (the replacement takes the same keys).
 */
export function createPeerStreams(deps: {
  peers: WorkerPeers;
  planner: () => SubscriptionPlanner;
  /** Adds a subscriber to the stream in this worker (which owns the key). */
  subscribeHere: (args: SubscribeArgs<Record<string, unknown>>) => Subscriber;
  /** Replaces the context a subscriber held for another worker runs its fetches with. */
  updateContext: (subscriber: Subscriber, context: Record<string, unknown>) => void;
  /** The hub forgets a relayed stream its owner ended. */
  forget: (stream: SharedStream) => void;
  onError: (error: unknown, details: Record<string, unknown>) => void;
}) {
  const { peers } = deps;
  let nextId = 1;
  /** This worker's relayed streams, by id. */
  const relayed = new Map<number, { stream: SharedStream; owner: number }>();
  const relayedStreams = new WeakSet<SharedStream>();
  /** The subscribers this worker holds for other workers' relayed streams, by `<worker>:<id>`. */
  const served = new Map<string, Subscriber>();
  const send = (to: number, message: PeerMessage) => peers.send(to, message);

  function end(id: number, errors: readonly PortableError[] | undefined) {
    const entry = relayed.get(id);
    if (!entry) return;
    relayed.delete(id);
    deps.forget(entry.stream);
    const error = errors?.[0];
    for (const subscriber of [...entry.stream.subscribers]) {
      if (error) subscriber.fail(new GraphQLError(error.message, { extensions: error.extensions }));
      else subscriber.complete();
    }
  }

  function serve(from: number, id: number, request: RelayedSubscription) {
    const servedKey = `${from}:${id}`;
    let document: DocumentNode;
    let plan;
    try {
      document = parse(request.query);
      plan = deps.planner().plan(document, request.operationName);
    } catch (error) {
      // Only if the workers' supergraphs differ (one has reloaded, the other not yet).
      send(from, { t: 'end', id, errors: [createError('SUPERGRAPH_RELOADED', (error as Error).message).toJSON()] });
      return;
    }
    const sink: SubscriberSink = {
      write: (json) => send(from, { t: 'event', id, json: json.toString('utf8') }),
      // The other worker's clients have their own bounded queues.
      pending: () => 0,
    };
    let subscriber: Subscriber;
    try {
      subscriber = otelContext.with(contextFromTraceparent(request.traceparent), () =>
        deps.subscribeHere({
          plan,
          variables: request.variables,
          context: request.context,
          authorization: request.authorization,
          scope: request.scope,
          sink,
        }),
      );
    } catch (error) {
      // As a local subscription would: the client gets an error, and this worker stays up.
      deps.onError(error, { peer: from });
      send(from, { t: 'end', id, errors: [createError('INTERNAL_SERVER_ERROR', 'Internal server error.').toJSON()] });
      return;
    }
    served.set(servedKey, subscriber);
    // With a sink, the iterator yields only the terminal error, then ends.
    void (async () => {
      let errors: PortableError[] | undefined;
      for await (const result of subscriber.iterator) {
        if (result.errors?.length) errors = result.errors.map((error) => ({ message: error.message, extensions: error.extensions }));
      }
      // Not when the other worker unsubscribed (or died): it no longer has the stream.
      if (served.get(servedKey) !== subscriber) return;
      served.delete(servedKey);
      send(from, { t: 'end', id, ...(errors ? { errors } : {}) });
    })().catch((error: unknown) => deps.onError(error, { peer: from }));
  }

  function stopServing(servedKey: string) {
    const subscriber = served.get(servedKey);
    if (!subscriber) return;
    served.delete(servedKey);
    void subscriber.iterator.return?.();
  }

  peers.onMessage((from, payload) => {
    const message = payload as PeerMessage;
    switch (message.t) {
      case 'subscribe':
        serve(from, message.id, message.request);
        break;
      case 'unsubscribe':
        stopServing(`${from}:${message.id}`);
        break;
      case 'context': {
        const subscriber = served.get(`${from}:${message.id}`);
        if (subscriber) deps.updateContext(subscriber, message.context);
        break;
      }
      case 'event': {
        const entry = relayed.get(message.id);
        if (!entry) return; // unsubscribed while the event was on its way
        let buffer: Buffer | undefined;
        let result: ExecutionResult | undefined;
        const json = () => (buffer ??= Buffer.from(message.json));
        const parsed = () => (result ??= JSON.parse(message.json) as ExecutionResult);
        for (const subscriber of entry.stream.subscribers) subscriber.push(parsed, json);
        break;
      }
      case 'end':
        end(message.id, message.errors);
        break;
    }
  });
  peers.onGone((index) => {
    for (const servedKey of [...served.keys()]) if (servedKey.startsWith(`${index}:`)) stopServing(servedKey);
    for (const [id, entry] of [...relayed]) if (entry.owner === index) end(id, [interrupted().toJSON()]);
  });
  peers.onUndeliverable((_to, payload) => {
    const message = payload as PeerMessage;
    if (message.t === 'subscribe') end(message.id, [interrupted().toJSON()]);
  });

  return {
    /** The worker that owns `key`, or undefined if it is this one. */
    ownerOf(key: string): number | undefined {
      const owner = Number.parseInt(key.slice(0, 8), 16) % peers.count;
      return owner === peers.index ? undefined : owner;
    },
    /** A stream of this worker's clients fed by the owner of its key. */
    start(key: string, owner: number, args: SubscribeArgs<Record<string, unknown>>): SharedStream {
      const id = nextId++;
      const stream: SharedStream = {
        key,
        subscribers: new Set(),
        contexts: new Map(),
        stop: () => {
          if (relayed.delete(id)) send(owner, { t: 'unsubscribe', id });
        },
        onContext: (context) => {
          if (relayed.has(id)) send(owner, { t: 'context', id, context });
        },
      };
      relayed.set(id, { stream, owner });
      relayedStreams.add(stream);
      send(owner, {
        t: 'subscribe',
        id,
        request: {
          query: print(args.plan.document),
          operationName: args.plan.operationName,
          variables: args.variables,
          authorization: args.authorization,
          scope: args.scope,
          context: args.context,
          traceparent: currentTraceparent(),
        },
      });
      return stream;
    },
    isRelayed: (stream: SharedStream) => relayedStreams.has(stream),
    /** Subscribers held for other workers' clients (one per relayed stream of theirs). */
    servedForPeers: () => served.size,
  };
}
