/**
 * The analytics subgraph consumes task and auth events (consumer group `analytics`) and folds
 * them into its read models. Each event is applied in one transaction together with its inbox
 * row (handleOnce), so redeliveries change nothing: every event counts exactly once.
 *
 * `rebuildReadModels` empties the read models and the group's inbox and replays every event
 * the bus retains through the same code, in one transaction: readers see the old figures until
 * the new ones commit, and a failed rebuild changes nothing. Live handling in this process
 * pauses meanwhile; other processes' handlers wait on the inbox lock and retry.
 * The outbox table exists for this subgraph's own future events (stats updates); nothing writes it yet.
 */
import { handleOnce, writeOutbox, type EventBus, type Subscription, type TransactionRunner } from '@meridian/event-bridge';
import { createDomainEvent, type DomainEvent } from '@meridian/domain-events';
import type { Logger } from '@meridian/service-kit';
import type { PrismaClient } from './generated/prisma/client';
import { applyEffects, clearReadModels, loadTaskFact, type AnalyticsTransaction } from './data/readModelStore';
import { ANALYTICS_EVENT_TYPES, applyEvent, taskIdOf, type AnalyticsEvent } from './domain/taskFacts';

export const ANALYTICS_CONSUMER_GROUP = 'analytics';

// A rebuild in another process holds the inbox lock for as long as the replay takes; retry
// patiently rather than dead-lettering events that are merely waiting for it.
const RETRY = { maxAttempts: 12, initialDelayMs: 200, maxDelayMs: 30_000 };
// The rebuild is one transaction: give it room for every retained event.
const REBUILD_TRANSACTION = { maxWait: 60_000, timeout: 30 * 60_000 };
const REPLAY_YIELD_EVERY = 50;

export interface RebuildResult {
  /** Events read back from the bus (duplicates included). */
  replayed: number;
  /** Distinct events applied (each counted once). */
  applied: number;
}

export interface AnalyticsEventHandlers extends Subscription {
  /** Empties the read models and replays every retained event; resolves with what it did. */
  rebuildReadModels(): Promise<RebuildResult>;
}

/** Applies one event inside `tx` (the inbox transaction). */
async function applyEventIn(tx: AnalyticsTransaction, event: AnalyticsEvent): Promise<void> {
  const taskId = taskIdOf(event);
  const current = taskId === null ? null : await loadTaskFact(tx, taskId);
  await applyEffects(tx, applyEvent(current, event));
}

/**
 * Handles the event once per group: false when this group had already handled it. Live
 * handling also announces the change (`analytics.stats-updated`, same transaction) for
 * Subscription.statsUpdated; a rebuild does not.
 */
async function handleEvent(runner: TransactionRunner<AnalyticsTransaction>, event: AnalyticsEvent, announce: boolean): Promise<boolean> {
  const result = await handleOnce(runner, ANALYTICS_CONSUMER_GROUP, event, async (tx) => {
    await applyEventIn(tx, event);
    if (announce) {
      await writeOutbox(tx, [
        createDomainEvent('analytics.stats-updated', {
          payload: { day: event.occurredAt.slice(0, 10), causeEventId: event.id, causeType: event.type },
        }),
      ]);
    }
  });
  return result.handled;
}

export async function subscribeAnalyticsEventHandlers(deps: {
  prisma: PrismaClient;
  bus: EventBus<DomainEvent>;
  logger: Logger;
  /** Wakes the outbox relay after a commit (stats-updated events leave at once). */
  afterCommit?: () => void;
}): Promise<AnalyticsEventHandlers> {
  const gate = createGate();
  const subscription = await deps.bus.subscribe({
    group: ANALYTICS_CONSUMER_GROUP,
    types: ANALYTICS_EVENT_TYPES,
    retry: RETRY,
    handler: (event) =>
      gate.shared(async () => {
        // See REPLAY_YIELD_EVERY: a burst on an embedded database must not starve the process.
        await yieldToEventLoop();
        const handled = await handleEvent(deps.prisma, event, true);
        if (handled) deps.afterCommit?.();
        deps.logger.debug({ eventId: event.id, type: event.type, handled }, handled ? 'event counted' : 'duplicate event skipped');
      }),
  });

  return {
    close: () => subscription.close(),
    rebuildReadModels: () =>
      gate.exclusive(async () => {
        const started = Date.now();
        const result = await deps.prisma.$transaction(async (tx) => {
          await clearReadModels(tx, ANALYTICS_CONSUMER_GROUP);
          // handleOnce inside the rebuild transaction: a runner whose "transaction" is this one.
          const inRebuild: TransactionRunner<AnalyticsTransaction> = { $transaction: (work) => work(tx) };
          let applied = 0;
          let seen = 0;
          const replay = await deps.bus.replay({
            types: ANALYTICS_EVENT_TYPES,
            handler: async (event) => {
              if (await handleEvent(inRebuild, event, false)) applied++;
              // An embedded database (PGlite) answers through microtasks only: without a turn of the
              // event loop now and then, a long replay would starve every timer and socket of the process.
              if (++seen % REPLAY_YIELD_EVERY === 0) await yieldToEventLoop();
            },
          });
          return { replayed: replay.count, applied };
        }, REBUILD_TRANSACTION);
        deps.logger.info({ ...result, ms: Date.now() - started }, 'analytics read models rebuilt');
        return result;
      }),
  };
}

function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Lets many handlers run at once (shared) or one rebuild alone (exclusive): a rebuild waits
 * for running handlers to finish, and handlers arriving meanwhile wait for the rebuild.
 */
function createGate() {
  let running = 0;
  let barrier: Promise<void> | undefined;
  let onIdle: (() => void) | undefined;
  return {
    async shared<T>(work: () => Promise<T>): Promise<T> {
      while (barrier) await barrier;
      running++;
      try {
        return await work();
      } finally {
        running--;
        if (running === 0) onIdle?.();
      }
    },
    async exclusive<T>(work: () => Promise<T>): Promise<T> {
      while (barrier) await barrier;
      let release!: () => void;
      barrier = new Promise<void>((resolve) => (release = resolve));
      try {
        if (running > 0) await new Promise<void>((resolve) => (onIdle = resolve));
        onIdle = undefined;
        return await work();
      } finally {
        barrier = undefined;
        release();
      }
    },
  };
}
