import { createHash } from 'node:crypto';
import type { ExecutionResult, GraphQLError } from 'graphql';
import { createError } from '@meridian/errors';
import { contextFromTraceparent, currentTraceparent, getTracer, otelContext, otelTrace, ROOT_CONTEXT, SpanKind, SpanStatusCode } from '@meridian/observability';
import type { WorkerPeers } from '@meridian/service-kit';
import { createPeerStreams } from './peerStreams';
import type { SubscriptionPlan, SubscriptionPlanner, ServiceMap } from './planner';
import { createSubscriber, type Subscriber, type SubscriberOptions, type SubscriberSink } from './subscriber';
import type { UpstreamPool } from './upstream';

export interface HubLimits {
  /** Results queued for one client before it is ended as too slow. */
  maxQueuedPerSubscriber: number;
}

export interface SubscribeArgs<TContext extends Record<string, unknown>> {
  plan: SubscriptionPlan;
  variables: Record<string, unknown>;
  /** The gateway context of the subscribing client (forwarded headers for entity fetches). */
  context: TContext;
  authorization: string | undefined;
  /**
   * Who the results are computed for. Subscribers with the same operation, variables and scope
   * share one upstream subscription and one execution of the entity fetches per event.
   */
  scope: string;
  /** Write results straight to the client (WebSocket) instead of queueing them for its iterator. */
  sink?: SubscriberSink;
  /** Told once when this subscriber ends, however it ends (the gate releases its limits). */
  endListener?: { subscriberEnded(): void };
}

export interface SharedStream {
  key: string;
  subscribers: Set<Subscriber>;
  stop(): void;
  /** Each subscriber's context (its viewer, token, request id), as it subscribed. */
  contexts: Map<Subscriber, Record<string, unknown>>;
  /**
   * The context the stream's per-event entity fetches run with: that of the subscriber whose token
   * lasts longest. It follows the subscribers, so that a stream outliving its first subscriber (or
   * that subscriber's token) never fetches with a token that has expired or gone.
   */
  context?: Record<string, unknown>;
  /** Told when `context` changes (a relayed stream tells the worker that owns its key). */
  onContext?: (context: Record<string, unknown>) => void;
}

/**
 * A subscriber's place in its stream, and what the subscriber is created with: when it closes, it
 * leaves the stream (stopping it if it was the last one) and tells the gate. A class rather than
 * closures: a gateway holds one per client subscription (10,000s), ADR 0024.
 */
class StreamMembership implements SubscriberOptions {
  subscriber: Subscriber | undefined;

  constructor(
    private readonly stream: SharedStream,
    private readonly streams: Map<string, SharedStream>,
    readonly maxQueued: number,
    readonly tooSlowError: () => GraphQLError,
    readonly sink: SubscriberSink | undefined,
    private readonly endListener: { subscriberEnded(): void } | undefined,
  ) {}

  onClose(): void {
    this.endListener?.subscriberEnded();
    const { stream, subscriber } = this;
    if (!subscriber) return;
    stream.subscribers.delete(subscriber);
    setSubscriberContext(stream, subscriber, undefined);
    if (stream.subscribers.size === 0) {
      stream.stop();
      if (this.streams.get(stream.key) === stream) this.streams.delete(stream.key);
    }
  }
}

/** When a context's token expires (seconds since the epoch); anonymous contexts never do. */
function expiresAtOf(context: Record<string, unknown> | undefined): number {
  const viewer = context?.viewer as { kind?: string; expiresAt?: number } | undefined;
  return viewer?.kind === 'user' && typeof viewer.expiresAt === 'number' ? viewer.expiresAt : Number.POSITIVE_INFINITY;
}

/** Records a subscriber's context and keeps `stream.context` the longest-lasting one. */
export function setSubscriberContext(stream: SharedStream, subscriber: Subscriber, context: Record<string, unknown> | undefined): void {
  const previous = stream.contexts.get(subscriber);
  if (context) stream.contexts.set(subscriber, context);
  else stream.contexts.delete(subscriber);
  let best = stream.context;
  if (context && (best === undefined || expiresAtOf(context) > expiresAtOf(best))) best = context;
  else if (previous !== undefined && previous === best) {
    // The current one left or changed: the longest-lasting of the others (rare; a scan).
    best = context;
    for (const candidate of stream.contexts.values()) if (best === undefined || expiresAtOf(candidate) > expiresAtOf(best)) best = candidate;
  }
  if (best === stream.context) return;
  const initial = stream.context === undefined;
  stream.context = best;
  if (best && !initial) stream.onContext?.(best);
}

/**
 * Multiplexes client subscriptions onto upstream subgraph subscriptions. Each distinct
 * (operation, variables, scope) has one upstream subscription; each event is completed once
 * (entity fetches through `executeQueryPlan`) and the result fanned out to every subscriber.
 *
 * With gateway workers (`peers`), that holds for the whole gateway: each key belongs to one worker
 * (by its hash), which holds the upstream subscription and completes the events; the other workers
 * get each completed event from it as JSON and fan it out to their own clients (peerStreams.ts).
 */
export function createSubscriptionHub(deps: {
  /** The current planner (it changes when the supergraph is reloaded). */
  planner: () => SubscriptionPlanner;
  upstream: UpstreamPool;
  serviceMap: () => ServiceMap;
  urlFor: (serviceName: string) => string;
  limits: HubLimits;
  onError: (error: unknown, details: Record<string, unknown>) => void;
  /** The other gateway workers of this gateway (GATEWAY_WORKERS > 1), if any. */
  peers?: WorkerPeers;
}) {
  const streams = new Map<string, SharedStream>();
  /** The stream of each subscriber held for another worker's relayed stream. */
  const streamOf = new WeakMap<Subscriber, SharedStream>();
  const tracer = getTracer('gateway');
  const peerStreams = deps.peers
    ? createPeerStreams({
        peers: deps.peers,
        planner: deps.planner,
        // A worker that owns a key serves the other workers' clients as one subscriber each.
        subscribeHere: (args) => subscribeHere(keyOf(args), args, true),
        // Another worker's relayed stream has a longer-lasting token now.
        updateContext: (subscriber, context) => {
          const stream = streamOf.get(subscriber);
          if (stream?.subscribers.has(subscriber)) setSubscriberContext(stream, subscriber, context);
        },
        forget: (stream) => {
          if (streams.get(stream.key) === stream) streams.delete(stream.key);
        },
        onError: deps.onError,
      })
    : undefined;

  function start<TContext extends Record<string, unknown>>(key: string, args: SubscribeArgs<TContext>): SharedStream {
    const { plan } = args;
    const planner = deps.planner();
    const variables = Object.fromEntries(
      (plan.primary.variableUsages ?? []).filter((name) => name in args.variables).map((name) => [name, args.variables[name]]),
    );
    // Started inside the first subscriber's span (WebSocket operation or HTTP request): the
    // upstream subscription continues its trace, and every event's span links back to it.
    const origin = otelTrace.getSpanContext(otelContext.active());
    const eventSpanName = `subscription event ${plan.operationName ?? '__anonymous'}`;
    const upstream = deps.upstream.subscribe({
      url: deps.urlFor(plan.primary.serviceName),
      query: plan.primary.operation,
      variables,
      authorization: args.authorization,
      traceparent: currentTraceparent(),
    });
    const stream: SharedStream = {
      key,
      subscribers: new Set(),
      contexts: new Map(),
      stop: () => {
        void upstream.return?.();
      },
    };
    (async () => {
      try {
        for await (const event of upstream) {
          if (stream.subscribers.size === 0) break;
          // One span per event and stream (a trace of its own: a subscription may live for days),
          // covering the entity fetches and the fan-out.
          // Linked to the set-up, and to the subgraph's span of this event when it sent one.
          const links = origin ? [{ context: origin }] : [];
          const fromSubgraph = event.extensions?.traceparent;
          const subgraphEvent = typeof fromSubgraph === 'string' ? otelTrace.getSpanContext(contextFromTraceparent(fromSubgraph)) : undefined;
          if (subgraphEvent) links.push({ context: subgraphEvent });
          const span = tracer.startSpan(
            eventSpanName,
            {
              kind: SpanKind.CONSUMER,
              links,
              attributes: { 'meridian.service': 'gateway', 'meridian.subgraph': plan.primary.serviceName, 'meridian.subscribers': stream.subscribers.size },
            },
            ROOT_CONTEXT,
          );
          let result: ExecutionResult;
          try {
            result = await otelContext.with(otelTrace.setSpan(ROOT_CONTEXT, span), () =>
              planner.executeEvent({ plan, event, variables: args.variables, serviceMap: deps.serviceMap(), context: (stream.context ?? args.context) as TContext }),
            );
          } catch (error) {
            deps.onError(error, { serviceName: plan.primary.serviceName });
            result = { errors: [createError('INTERNAL_SERVER_ERROR', 'Internal server error.')] };
          }
          if (result.errors?.length) span.setStatus({ code: SpanStatusCode.ERROR });
          // Serialized once for the whole stream (a WebSocket fan-out writes the same JSON to every client).
          let serialized: Buffer | undefined;
          const serialize = () => (serialized ??= Buffer.from(JSON.stringify(result)));
          for (const subscriber of stream.subscribers) subscriber.push(result, serialize);
          span.end();
        }
        for (const subscriber of stream.subscribers) subscriber.complete();
      } catch (error) {
        // The subgraph went away (or refused the subscription): end every affected subscriber with an error.
        const reason = Array.isArray(error) ? (error as { message: string }[]).map((e) => e.message).join('; ') : (error as Error)?.message;
        deps.onError(error, { serviceName: plan.primary.serviceName, reason });
        const failure = createError('SUBGRAPH_UNAVAILABLE', `The ${plan.primary.serviceName} subgraph ended the subscription: ${reason ?? 'connection lost'}.`, {
          serviceName: plan.primary.serviceName,
        });
        for (const subscriber of stream.subscribers) subscriber.fail(failure);
      } finally {
        if (streams.get(key) === stream) streams.delete(key);
      }
    })();
    return stream;
  }

  const tooSlowError = () =>
    createError('SUBSCRIBER_TOO_SLOW', `More than ${deps.limits.maxQueuedPerSubscriber} events were waiting for this client; resubscribe with the last cursor.`);

  function keyOf(args: SubscribeArgs<Record<string, unknown>>): string {
    return createHash('sha256')
      .update(args.plan.primary.operation)
      .update('\0')
      .update(JSON.stringify(args.variables))
      .update('\0')
      .update(args.scope)
      .update('\0')
      .update(args.plan.operationName ?? '')
      .update('\0')
      .update(JSON.stringify(args.plan.perEvent))
      .digest('hex');
  }

  /**
   * Adds a subscriber to the key's stream in this worker, started on first use: upstream, or relayed
   * from the worker that owns the key. `owned`: this worker serves the key (asked by another one).
   */
  function subscribeHere<TContext extends Record<string, unknown>>(key: string, args: SubscribeArgs<TContext>, owned = false): Subscriber {
    let stream = streams.get(key);
    if (!stream) {
      const owner = owned ? undefined : peerStreams?.ownerOf(key);
      stream = owner === undefined ? start(key, args) : peerStreams!.start(key, owner, args);
      streams.set(key, stream);
    }
    const membership = new StreamMembership(stream, streams, deps.limits.maxQueuedPerSubscriber, tooSlowError, args.sink, args.endListener);
    const subscriber = createSubscriber(membership);
    membership.subscriber = subscriber;
    stream.subscribers.add(subscriber);
    setSubscriberContext(stream, subscriber, args.context);
    // Only a subscriber held for another worker is looked up again (its worker's `context` messages).
    if (owned) streamOf.set(subscriber, stream);
    return subscriber;
  }

  return {
    subscribe<TContext extends Record<string, unknown>>(args: SubscribeArgs<TContext>): Subscriber {
      return subscribeHere(keyOf(args), args);
    },
    /** Ends every subscription (supergraph reload, shutdown) with the given error. */
    endAll(error: ReturnType<typeof createError>) {
      for (const stream of [...streams.values()]) {
        for (const subscriber of stream.subscribers) subscriber.fail(error);
        stream.stop();
      }
      streams.clear();
    },
    /**
     * This worker's upstream subscriptions, its streams fed by another worker, and its own clients'
     * subscriptions (not the subscribers it holds for other workers' streams).
     */
    stats: () => {
      let relayedSubscriptions = 0;
      let subscribers = 0;
      for (const stream of streams.values()) {
        if (peerStreams?.isRelayed(stream)) relayedSubscriptions += 1;
        subscribers += stream.subscribers.size;
      }
      return {
        upstreamSubscriptions: streams.size - relayedSubscriptions,
        relayedSubscriptions,
        subscribers: subscribers - (peerStreams?.servedForPeers() ?? 0),
      };
    },
  };
}

export type SubscriptionHub = ReturnType<typeof createSubscriptionHub>;
