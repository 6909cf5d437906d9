import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { eventually, freeStablePort, graphqlOk, preparePlatformEnv, PrivateRedis } from '@meridian/testing';
import { startPlatform, type Platform } from '../src/platform';
import { collect, primeStreams, signUp, TASK_CHANGED, titleIs, wsClient, type SignedUp } from './subscriptionHelpers';

jest.setTimeout(120_000);

let hasRedisServer = true;
try {
  execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
} catch {
  hasRedisServer = false;
}

const CREATE_TASK = `mutation($title: String!) { createTask(input: { title: $title }) { id } }`;

// Needs the redis-server binary for a Redis of its own to kill (the shared one must never be stopped).
(hasRedisServer ? describe : describe.skip)('when Redis goes away (events on Redis, subscriptions through the gateway)', () => {
  let redis: PrivateRedis;
  let dir: string;
  let platform: Platform;
  let ada: SignedUp;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'platform-redis-'));
    redis = new PrivateRedis(await freeStablePort(), dir);
    await redis.start();
    const prepared = await preparePlatformEnv({ name: 'embedded' });
    platform = await startPlatform({ env: { ...prepared.env, REDIS_URL: redis.url, EVENT_STREAM_PREFIX: `test:${randomUUID()}` } });
    ada = await signUp(platform.gatewayUrl, 'Ada');
  }, 240_000);

  afterAll(async () => {
    await platform?.stop();
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('ends subscriptions with an error and reports Redis in /readyz; both work again once it is back', async () => {
    const url = platform.gatewayUrl;
    const readyz = async () => {
      const response = await fetch(`${platform.services.task.url}/readyz`);
      return { status: response.status, body: (await response.json()) as { checks: Record<string, string>; reason?: string } };
    };
    expect(await readyz()).toMatchObject({ status: 200, body: { checks: { database: 'ok', redis: 'ok' } } });
    const client = wsClient(url, ada.accessToken);
    const stream = collect(client.iterate({ query: TASK_CHANGED }));
    await primeStreams([stream], () => graphqlOk(url, CREATE_TASK, { token: ada.accessToken, variables: { title: 'probe' } }));

    await redis.kill();
    await stream.waitForEnd(60_000);
    expect(JSON.stringify(stream.failure ?? stream.received.at(-1))).toContain('SUBGRAPH_UNAVAILABLE');
    const down = await eventually(async () => {
      const result = await readyz();
      expect(result.status).toBe(503);
      return result;
    });
    expect(down.body.reason).toMatch(/redis: /);
    expect(down.body.checks.database).toBe('ok');

    await redis.start();
    await eventually(async () => expect((await readyz()).status).toBe(200), 30_000);
    const again = collect(client.iterate({ query: TASK_CHANGED }));
    await primeStreams([again], () => graphqlOk(url, CREATE_TASK, { token: ada.accessToken, variables: { title: 'probe' } }), 30_000);
    await graphqlOk(url, CREATE_TASK, { token: ada.accessToken, variables: { title: 'After Redis came back' } });
    expect((await again.waitForMatch(titleIs('After Redis came back'), 30_000)).data.taskChanged.kind).toBe('CREATED');
    await again.stop();
    await client.dispose();
  });
});
