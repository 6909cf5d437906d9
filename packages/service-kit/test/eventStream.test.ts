import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createDomainEvent, createPlatformEventBus, type DomainEvent } from '@meridian/domain-events';
import { freeStablePort, PrivateRedis } from '@meridian/testing';
import { createEventReadCache, streamEvents } from '../src';

const taskCreated = (title: string, projectId: string | null = null) =>
  createDomainEvent('task.created', {
    payload: { taskId: `t-${title}`, projectId, title, priority: 'MEDIUM', dueAt: null, createdById: 'u1', assigneeId: null, actorId: 'u1', status: 'TODO' },
  });

describe('streamEvents (the source of subscription fields)', () => {
  it('replays what came after the cursor, then goes live, without duplicates, filtered', async () => {
    const bus = createPlatformEventBus();
    const [first, second, third] = [taskCreated('one'), taskCreated('two'), taskCreated('three', 'other-project')];
    await bus.publish([first, second, third]);
    const stream = streamEvents(bus, { types: ['task.created'], after: first.id, filter: (event) => event.payload.projectId === null });
    expect((await stream.next()).value?.id).toBe(second.id);
    const live = taskCreated('four');
    await bus.publish(live);
    expect((await stream.next()).value?.id).toBe(live.id);
    await stream.return!();
    await bus.close();
  });

  it('ends a waiting subscriber at once when it unsubscribes', async () => {
    const bus = createPlatformEventBus();
    const stream = streamEvents(bus, { types: ['task.created'], filter: () => true });
    const pending = stream.next();
    await stream.return!();
    expect(await pending).toEqual({ done: true, value: undefined });
    await bus.close();
  });
});

let hasRedisServer = true;
try {
  execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
} catch {
  hasRedisServer = false;
}

// Needs the redis-server binary (present where the distributed suites run) for a Redis of its own to kill.
(hasRedisServer ? describe : describe.skip)('when Redis goes away', () => {
  let redis: PrivateRedis;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'stream-redis-'));
    redis = new PrivateRedis(await freeStablePort(), dir);
    await redis.start();
  });
  afterAll(async () => {
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('ends the subscription with an error instead of hanging, and new ones work once it is back', async () => {
    const bus = createPlatformEventBus({ redisUrl: redis.url, streamPrefix: 'stream-test' });
    const stream = streamEvents(bus, { types: ['task.created'], filter: () => true });
    // Listening starts asynchronously: publish until the stream has picked one up.
    const waiting = stream.next();
    let received: IteratorResult<DomainEvent> | undefined;
    void waiting.then((result) => (received = result));
    while (!received) {
      await bus.publish(taskCreated('before'));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(received.value?.payload).toMatchObject({ title: 'before' });
    await stream.return!();

    const live = streamEvents(bus, { types: ['task.created'], filter: () => true });
    const failed = live.next();
    await redis.kill();
    await expect(failed).rejects.toMatchObject({ extensions: { code: 'SUBGRAPH_UNAVAILABLE' } });

    await redis.start();
    const again = streamEvents(bus, { types: ['task.created'], filter: () => true });
    let after: IteratorResult<DomainEvent> | undefined;
    void again.next().then((result) => (after = result));
    // Publish (the clients reconnect meanwhile) until the new subscription receives.
    const deadline = Date.now() + 20_000;
    while (!after && Date.now() < deadline) {
      await bus.publish(taskCreated('after')).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(after?.value?.payload).toMatchObject({ title: 'after' });
    await again.return!();
    await bus.close();
  }, 60_000);
});

describe('createEventReadCache (one read per event for every subscription)', () => {
  it('reads once per event and key, however many subscriptions resolve it at once', async () => {
    const cache = createEventReadCache();
    let reads = 0;
    const load = async () => {
      reads += 1;
      return { title: `read ${reads}` };
    };
    const results = await Promise.all(Array.from({ length: 50 }, () => cache.read('event-1', 'task:t1', load)));
    expect(reads).toBe(1);
    expect(new Set(results).size).toBe(1);
    // Another event about the same task is read again: it must see the row as of that event.
    expect(await cache.read('event-2', 'task:t1', load)).toEqual({ title: 'read 2' });
    expect(await cache.read('event-1', 'task:t2', load)).toEqual({ title: 'read 3' });
    expect(reads).toBe(3);
  });

  it('does not keep a failed read, and stays bounded', async () => {
    const cache = createEventReadCache({ maxEntries: 2 });
    await expect(cache.read('e1', 'k', () => Promise.reject(new Error('database down')))).rejects.toThrow('database down');
    await new Promise((resolve) => setImmediate(resolve));
    expect(await cache.read('e1', 'k', async () => 'second try')).toBe('second try');
    await cache.read('e2', 'k', async () => 2);
    await cache.read('e3', 'k', async () => 3);
    expect(cache.size()).toBe(2);
    // The oldest entry was dropped: reading it again loads again.
    expect(await cache.read('e1', 'k', async () => 'reloaded')).toBe('reloaded');
    expect(() => createEventReadCache({ maxEntries: 0 })).toThrow('maxEntries must be a positive integer, got 0');
  });
});
