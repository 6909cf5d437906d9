import type { EventEnvelope } from './envelope';
import type {
  BatchDeliveryContext,
  BatchEventBus,
  DeadLetter,
  EventBusOptions,
  ListenOptions,
  ReplayOptions,
  ReplayResult,
  SubscribeBatchOptions,
  SubscribeOptions,
  Subscription,
} from './eventBus';
import { consoleLogger } from './eventBus';
import { handleWithTelemetry, recordDeadLetter, recordPublished } from './telemetry';
import {
  SerialQueue,
  backoffDelay,
  defaultConsumerName,
  deliverBatch,
  errorMessage,
  jsonCopy,
  partitionOf,
  resolveMaxBatchSize,
  resolveRetry,
  sleep,
  type ResolvedRetry,
} from './internal';

export interface InMemoryEventBusOptions<TEvent extends EventEnvelope> extends EventBusOptions<TEvent> {
  /** Events kept for replay and for groups created later (default 10 000). */
  readonly retainedEvents?: number;
}

interface Member {
  readonly name: string;
  /** `subscribe` is `subscribeBatch` with batches of one. */
  readonly handler: (events: EventEnvelope[], context: BatchDeliveryContext) => Promise<void>;
  readonly maxBatchSize: number;
  readonly retry: ResolvedRetry;
  readonly stop: AbortController;
  closed: boolean;
}

interface Partition {
  readonly queue: unknown[];
  running: Promise<void> | undefined;
}

interface Group {
  readonly name: string;
  readonly types: ReadonlySet<string>;
  readonly partitions: Partition[];
  readonly members: Member[];
}

interface Listener {
  readonly types: ReadonlySet<string>;
  readonly handler: (event: EventEnvelope) => void | Promise<void>;
  readonly queue: SerialQueue;
  closed: boolean;
}

/**
 * The bus of the embedded mode: one process, no infrastructure. Same delivery semantics as the
 * Redis bus (groups, partition ordering, retries, dead letters, broadcast, replay), so code and
 * tests do not depend on the mode.
 */
export function createInMemoryEventBus<TEvent extends EventEnvelope>(
  options: InMemoryEventBusOptions<TEvent>,
): BatchEventBus<TEvent> {
  const { registry } = options;
  const partitionCount = options.partitions ?? 8;
  const retained = options.retainedEvents ?? 10_000;
  const logger = options.logger ?? consoleLogger;
  const log: unknown[] = [];
  const groups = new Map<string, Group>();
  const listeners = new Set<Listener>();
  const deadLetters = new Map<string, DeadLetter[]>();
  const lifetime = new AbortController();
  let closed = false;

  function assertOpen() {
    if (closed) throw new Error('Event bus is closed');
  }

  function addDeadLetter(group: string, event: unknown, error: string, attempts: number) {
    recordDeadLetter(group, event);
    const list = deadLetters.get(group) ?? [];
    list.push({ group, event, error, attempts, failedAt: new Date().toISOString() });
    deadLetters.set(group, list);
    logger.error({ group, error, attempts }, 'event moved to dead letters');
  }

  function enqueue(group: Group, raw: EventEnvelope) {
    if (!group.types.has(raw.type)) return;
    const partition = group.partitions[partitionOf(raw.aggregateId, partitionCount)];
    partition?.queue.push(raw);
  }

  function kick(group: Group) {
    group.partitions.forEach((partition, index) => {
      if (partition.running || partition.queue.length === 0 || closed) return;
      partition.running = drain(group, partition, index).finally(() => {
        partition.running = undefined;
        // Events may have arrived while the last delivery finished.
        if (partition.queue.length > 0 && group.members.some((member) => !member.closed)) kick(group);
      });
    });
  }

  /** Handles a partition's queue strictly in order, one batch (of consecutive events) at a time. */
  async function drain(group: Group, partition: Partition, index: number) {
    await Promise.resolve(); // never run handlers synchronously inside publish/subscribe
    while (!closed && partition.queue.length > 0) {
      const live = group.members.filter((member) => !member.closed);
      // Same rule as the Redis bus: partition i belongs to member i mod n (members sorted by name).
      const member = live.sort((a, b) => a.name.localeCompare(b.name))[index % Math.max(live.length, 1)];
      if (!member) return; // resumes when a member subscribes
      const items: { raw: unknown; event: EventEnvelope }[] = [];
      while (items.length < member.maxBatchSize && items.length < partition.queue.length) {
        const raw = partition.queue[items.length];
        try {
          items.push({ raw, event: registry.validate(raw) });
        } catch (error) {
          if (items.length > 0) break; // handled after the batch before it
          addDeadLetter(group.name, raw, errorMessage(error), 0);
          partition.queue.shift();
        }
      }
      if (items.length === 0) continue;
      const finished = await deliver(group, member, index, items);
      // Unfinished ones stay in the queue: another member (or a later subscriber) takes over.
      partition.queue.splice(0, finished);
    }
  }

  /** Returns how many items (from the start) are finished with (handled or dead-lettered). */
  function deliver(group: Group, member: Member, partitionIndex: number, items: readonly { raw: unknown; event: EventEnvelope }[]) {
    const stopped = () => closed || member.closed;
    return deliverBatch(items, {
      maxAttempts: member.retry.maxAttempts,
      handle: (batch, attempt) => {
        const events = batch.map((item) => item.event);
        return handleWithTelemetry(group.name, events, attempt, () => member.handler(events, { group: group.name, attempt, partition: partitionIndex }));
      },
      done: () => undefined,
      deadLetter: async (item, error, attempts) => addDeadLetter(group.name, item.raw, errorMessage(error), attempts),
      retry: async (item, attempt, error) => {
        logger.warn({ group: group.name, type: item.event.type, attempt, error: errorMessage(error) }, 'event handler failed, will retry');
        await sleep(backoffDelay(member.retry, attempt), AbortSignal.any([lifetime.signal, member.stop.signal]));
        return !stopped();
      },
      split: (batch, error) =>
        logger.warn({ group: group.name, size: batch.length, error: errorMessage(error) }, 'event batch handler failed, splitting the batch'),
      canContinue: () => !stopped(),
    });
  }

  /** Adds a member to a group (creating the group on first use). */
  async function join(subscribeOptions: SubscribeBatchOptions<TEvent, any> & { maxBatchSize: number }): Promise<Subscription> {
    assertOpen();
    const types = new Set<string>(subscribeOptions.types);
    for (const type of types) registry.sourceOf(type); // fail fast on unknown types
    let group = groups.get(subscribeOptions.group);
    if (!group) {
      group = {
        name: subscribeOptions.group,
        types,
        partitions: Array.from({ length: partitionCount }, () => ({ queue: [], running: undefined })),
        members: [],
      };
      groups.set(group.name, group);
      if ((subscribeOptions.startFrom ?? 'earliest') === 'earliest') {
        for (const raw of log) enqueue(group, jsonCopy(raw as EventEnvelope));
      }
    } else if ([...types].sort().join() !== [...group.types].sort().join()) {
      throw new Error(`Members of group "${group.name}" must subscribe to the same types`);
    }
    const member: Member = {
      name: subscribeOptions.consumerName ?? defaultConsumerName(),
      handler: subscribeOptions.handler as Member['handler'],
      maxBatchSize: subscribeOptions.maxBatchSize,
      retry: resolveRetry(options.retry, subscribeOptions.retry),
      stop: new AbortController(),
      closed: false,
    };
    const memberGroup = group;
    memberGroup.members.push(member);
    kick(memberGroup);
    return {
      async close() {
        if (member.closed) return;
        member.closed = true;
        member.stop.abort();
        memberGroup.members.splice(memberGroup.members.indexOf(member), 1);
        await Promise.all(memberGroup.partitions.map((partition) => partition.running));
        kick(memberGroup);
      },
    };
  }

  const bus: BatchEventBus<TEvent> = {
    async publish(events) {
      assertOpen();
      const list = (Array.isArray(events) ? events : [events]) as readonly EventEnvelope[];
      // Validate all first: a batch is appended entirely or not at all.
      const copies = list.map((event) => {
        registry.validate(event);
        return jsonCopy(event);
      });
      recordPublished(copies);
      for (const copy of copies) {
        log.push(copy);
        for (const group of groups.values()) enqueue(group, copy);
        for (const listener of listeners) {
          if (!listener.types.has(copy.type)) continue;
          listener.queue.push(async () => {
            if (listener.closed) return;
            let event: EventEnvelope;
            try {
              event = registry.validate(jsonCopy(copy));
            } catch (error) {
              addDeadLetter('$listen', copy, errorMessage(error), 0);
              return;
            }
            try {
              await listener.handler(event);
            } catch (error) {
              logger.error({ type: copy.type, error: errorMessage(error) }, 'event listener failed');
            }
          });
        }
      }
      if (log.length > retained) log.splice(0, log.length - retained);
      for (const group of groups.values()) kick(group);
    },

    subscribe(subscribeOptions: SubscribeOptions<TEvent, any>): Promise<Subscription> {
      const { handler } = subscribeOptions;
      return join({
        ...subscribeOptions,
        maxBatchSize: 1,
        handler: (events, { group, attempt }) => handler(events[0]!, { group, attempt }),
      });
    },

    subscribeBatch(subscribeOptions: SubscribeBatchOptions<TEvent, any>): Promise<Subscription> {
      return join({ ...subscribeOptions, maxBatchSize: resolveMaxBatchSize(subscribeOptions.maxBatchSize) });
    },

    async listen(listenOptions: ListenOptions<TEvent, any>): Promise<Subscription> {
      assertOpen();
      for (const type of listenOptions.types) registry.sourceOf(type);
      const listener: Listener = {
        types: new Set(listenOptions.types),
        handler: listenOptions.handler as Listener['handler'],
        queue: new SerialQueue(),
        closed: false,
      };
      listeners.add(listener);
      return {
        async close() {
          listener.closed = true;
          listeners.delete(listener);
          await listener.queue.idle();
        },
      };
    },

    async replay(replayOptions: ReplayOptions<TEvent, any>): Promise<ReplayResult> {
      assertOpen();
      const types = new Set<string>(replayOptions.types);
      for (const type of types) registry.sourceOf(type);
      const selected = (log as EventEnvelope[])
        .filter((raw) => types.has(raw.type) && (replayOptions.fromId === undefined || raw.id > replayOptions.fromId))
        .map((raw) => jsonCopy(raw));
      let count = 0;
      let lastId: string | undefined;
      for (const raw of selected) {
        if (closed) break;
        let event: EventEnvelope;
        try {
          event = registry.validate(raw);
        } catch (error) {
          addDeadLetter('$replay', raw, errorMessage(error), 0);
          continue;
        }
        await replayOptions.handler(event as never);
        count++;
        lastId = event.id;
      }
      return { count, lastId };
    },

    async readDeadLetters(group) {
      return [...(deadLetters.get(group) ?? [])];
    },

    async close() {
      if (closed) return;
      closed = true;
      lifetime.abort();
      for (const listener of listeners) listener.closed = true;
      await Promise.all([
        ...[...groups.values()].flatMap((group) => group.partitions.map((partition) => partition.running)),
        ...[...listeners].map((listener) => listener.queue.idle()),
      ]);
      listeners.clear();
    },
  };
  return bus;
}
