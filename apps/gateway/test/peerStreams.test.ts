import { createHash } from 'node:crypto';
import { parse, type ExecutionResult } from 'graphql';
import { createError } from '@meridian/errors';
import type { WorkerPeers } from '@meridian/service-kit';
import { createPeerStreams } from '../src/subscriptions/peerStreams';
import { setSubscriberContext, type SharedStream, type SubscribeArgs } from '../src/subscriptions/hub';
import type { SubscriptionPlan, SubscriptionPlanner } from '../src/subscriptions/planner';
import { createSubscriber, type Subscriber } from '../src/subscriptions/subscriber';

/**
 * The protocol between gateway workers, with two workers in one process: messages go through a
 * queue as they would through the primary (in order, asynchronously), as JSON. The launcher's
 * gatewayWorkers test runs it between real worker processes.
 */
function twoWorkers(options: { ready?: boolean[] } = {}) {
  const ready = options.ready ?? [true, true];
  const listeners = [0, 1].map(() => ({ message: [] as ((from: number, payload: unknown) => void)[], undeliverable: [] as ((to: number, payload: unknown) => void)[] }));
  const peersOf = (index: number): WorkerPeers => ({
    index,
    count: 2,
    send(to, payload) {
      const copy = JSON.parse(JSON.stringify(payload)) as unknown;
      setImmediate(() => {
        if (ready[to]) for (const listener of listeners[to]!.message) listener(index, copy);
        else for (const listener of listeners[index]!.undeliverable) listener(to, copy);
      });
    },
    onMessage: (listener) => void listeners[index]!.message.push(listener),
    onGone: () => undefined,
    onUndeliverable: (listener) => void listeners[index]!.undeliverable.push(listener),
    acquire: async () => true,
    release: () => undefined,
  });
  return [0, 1].map((index) => worker(peersOf(index)));
}

const DOCUMENT = 'subscription Changed($project: ID) { taskChanged(projectId: $project) { cursor } }';

function worker(peers: WorkerPeers) {
  /** What the owner's hub was asked for, and the subscribers it added for the other worker. */
  const asked: SubscribeArgs<Record<string, unknown>>[] = [];
  const held: Subscriber[] = [];
  const forgotten: SharedStream[] = [];
  const updated: { subscriber: Subscriber; context: Record<string, unknown> }[] = [];
  const errors: unknown[] = [];
  let planFails = false;
  let subscribeFails = false;
  const planner = (() => ({
    plan: (document: ReturnType<typeof parse>, operationName: string | undefined) => {
      if (planFails) throw new Error('Cannot query field "taskChanged" on type "Subscription".');
      return { document, operationName } as unknown as SubscriptionPlan;
    },
  })) as unknown as () => SubscriptionPlanner;
  const streams = createPeerStreams({
    peers,
    planner,
    subscribeHere: (args) => {
      if (subscribeFails) throw new Error('No routing URL for subgraph task.');
      asked.push(args);
      const subscriber = createSubscriber({ maxQueued: 10, sink: args.sink, tooSlowError: () => createError('SUBSCRIBER_TOO_SLOW', 'slow'), onClose: () => undefined });
      held.push(subscriber);
      return subscriber;
    },
    updateContext: (subscriber, context) => void updated.push({ subscriber, context }),
    forget: (stream) => forgotten.push(stream),
    onError: (error) => errors.push(error),
  });
  return {
    streams,
    asked,
    held,
    forgotten,
    updated,
    errors,
    failPlans: () => (planFails = true),
    failSubscribes: () => (subscribeFails = true),
    /** A relayed stream to `owner` with one WebSocket-like client (sink) and one HTTP-like client (queue). */
    subscribe(owner: number) {
      const args = {
        plan: { document: parse(DOCUMENT), operationName: 'Changed' } as unknown as SubscriptionPlan,
        variables: { project: 'p1' },
        context: { requestId: 'r1', authorization: 'Bearer t', viewer: { kind: 'user', userId: 'u1', roles: ['MEMBER'] } },
        authorization: 'Bearer t',
        scope: 'u1|MEMBER',
      };
      const stream = streams.start('key', owner, args);
      const written: string[] = [];
      const socket = createSubscriber({
        maxQueued: 10,
        sink: { write: (json) => void written.push(json.toString()), pending: () => 0 },
        tooSlowError: () => createError('SUBSCRIBER_TOO_SLOW', 'slow'),
        onClose: () => stream.subscribers.delete(socket),
      });
      const http = createSubscriber({ maxQueued: 10, tooSlowError: () => createError('SUBSCRIBER_TOO_SLOW', 'slow'), onClose: () => stream.subscribers.delete(http) });
      stream.subscribers.add(socket);
      stream.subscribers.add(http);
      return { stream, written, socket, http };
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));
async function until(check: () => boolean) {
  for (let turn = 0; turn < 100 && !check(); turn++) await tick();
  expect(check()).toBe(true);
}

describe('subscription streams shared between gateway workers', () => {
  it('asks the owner once, and fans out its results as JSON to sockets and as objects to HTTP streams', async () => {
    const [owner, other] = twoWorkers();
    const { written, socket, http } = other!.subscribe(0);
    await until(() => owner!.held.length === 1);
    expect(owner!.asked[0]).toMatchObject({
      variables: { project: 'p1' },
      authorization: 'Bearer t',
      scope: 'u1|MEMBER',
      context: { requestId: 'r1', viewer: { userId: 'u1', roles: ['MEMBER'] } },
    });
    const result: ExecutionResult = { data: { taskChanged: { cursor: 'c1' } } };
    owner!.held[0]!.push(result);
    await until(() => written.length === 1);
    expect(JSON.parse(written[0]!)).toEqual(result);
    expect(await http.iterator.next()).toEqual({ done: false, value: result });
    expect(socket.ended).toBe(false);
  });

  it("tells the owner when the relayed stream's longest-lasting token changes, for the owner's entity fetches", async () => {
    const [owner, other] = twoWorkers();
    const { stream, socket, http } = other!.subscribe(0);
    await until(() => owner!.held.length === 1);
    const contextOf = (userId: string, expiresAt: number) => ({ requestId: userId, authorization: `Bearer ${userId}`, viewer: { kind: 'user', userId, roles: ['MEMBER'], expiresAt } });
    setSubscriberContext(stream, socket, contextOf('u1', 1_000));
    // The first context is the one the subscribe request carried: nothing to tell.
    await tick();
    expect(owner!.updated).toEqual([]);
    // A client whose token lasts longer joins; one that expires sooner does not change anything.
    setSubscriberContext(stream, http, contextOf('u2', 2_000));
    await until(() => owner!.updated.length === 1);
    expect(owner!.updated[0]).toEqual({ subscriber: owner!.held[0], context: contextOf('u2', 2_000) });
    // It leaves: the owner is told to use the remaining client's.
    setSubscriberContext(stream, http, undefined);
    await until(() => owner!.updated.length === 2);
    expect(owner!.updated[1]!.context).toEqual(contextOf('u1', 1_000));
    // Once the stream stopped, nothing more is sent.
    stream.stop();
    setSubscriberContext(stream, http, contextOf('u3', 3_000));
    await tick();
    await tick();
    expect(owner!.updated).toHaveLength(2);
  });

  it("ends the relayed stream with the owner's error (its code kept) and forgets it", async () => {
    const [owner, other] = twoWorkers();
    const { stream, socket, http } = other!.subscribe(0);
    await until(() => owner!.held.length === 1);
    owner!.held[0]!.fail(createError('SUBGRAPH_UNAVAILABLE', 'The task subgraph ended the subscription: connection lost.', { serviceName: 'task' }));
    for (const client of [socket, http]) {
      const { value } = await client.iterator.next();
      expect(value?.errors?.[0]).toMatchObject({ message: 'The task subgraph ended the subscription: connection lost.', extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'task' } });
      expect(await client.iterator.next()).toEqual({ done: true, value: undefined });
    }
    expect(other!.forgotten).toEqual([stream]);
  });

  it('completes the relayed stream when the owner completes', async () => {
    const [owner, other] = twoWorkers();
    const { http } = other!.subscribe(0);
    await until(() => owner!.held.length === 1);
    owner!.held[0]!.complete();
    expect(await http.iterator.next()).toEqual({ done: true, value: undefined });
  });

  it("stops the owner's subscriber when the relayed stream stops, and sends nothing back", async () => {
    const [owner, other] = twoWorkers();
    const { stream, written } = other!.subscribe(0);
    await until(() => owner!.held.length === 1);
    stream.stop();
    await until(() => owner!.held[0]!.ended);
    owner!.held[0]!.push({ data: { late: true } });
    await tick();
    await tick();
    expect(written).toEqual([]);
    expect(other!.forgotten).toEqual([]);
    expect(other!.streams.servedForPeers()).toBe(0);
    expect(owner!.streams.servedForPeers()).toBe(0);
  });

  it('ends the relayed stream with SUBSCRIPTION_INTERRUPTED when no owner is ready', async () => {
    const [, other] = twoWorkers({ ready: [false, true] });
    const { http } = other!.subscribe(0);
    const { value } = await http.iterator.next();
    expect(value?.errors?.[0]?.extensions).toMatchObject({ code: 'SUBSCRIPTION_INTERRUPTED' });
  });

  it("ends the relayed stream with SUPERGRAPH_RELOADED when the owner cannot plan it (its supergraph changed)", async () => {
    const [owner, other] = twoWorkers();
    owner!.failPlans();
    const { http } = other!.subscribe(0);
    const { value } = await http.iterator.next();
    expect(value?.errors?.[0]?.extensions).toMatchObject({ code: 'SUPERGRAPH_RELOADED' });
    expect(owner!.held).toEqual([]);
  });

  it('ends the relayed stream with INTERNAL_SERVER_ERROR, and keeps the owner up, when the owner cannot start the stream', async () => {
    const [owner, other] = twoWorkers();
    owner!.failSubscribes();
    const { http } = other!.subscribe(0);
    const { value } = await http.iterator.next();
    expect(value?.errors?.[0]).toMatchObject({ message: 'Internal server error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(owner!.errors).toEqual([new Error('No routing URL for subgraph task.')]);
  });

  it('gives each key one owner, the same in every worker, spread over the workers', () => {
    const [first, second] = twoWorkers();
    const owners = new Set<number>();
    for (let n = 0; n < 64; n++) {
      const key = createHash('sha256').update(String(n)).digest('hex');
      const seenByFirst = first!.streams.ownerOf(key) ?? 0;
      const seenBySecond = second!.streams.ownerOf(key) ?? 1;
      expect(seenByFirst).toBe(seenBySecond);
      owners.add(seenByFirst);
    }
    expect(owners).toEqual(new Set([0, 1]));
  });
});
