import { graphqlOk, preparePlatformEnv, type PreparedEnv } from '@meridian/testing';
import { startPlatform, type Platform } from '../src/platform';
import { collect, primeStreams, signUp, TASK_CHANGED, wsClient, type SignedUp } from './subscriptionHelpers';

const configured = Boolean(process.env.TEST_POSTGRES_URL && process.env.TEST_REDIS_URL);

const CREATE_TASK = `mutation($title: String!, $a: ID) { createTask(input: { title: $title, assigneeId: $a }) { id } }`;
const NOTIFICATIONS = `subscription { notificationReceived { cursor notification { kind task { title assignee { displayName } } } } }`;

type Stream = ReturnType<typeof collect<any>>;

const taskTitle = (event: any): string | undefined => event?.data?.taskChanged?.task?.title;
const notifiedTitle = (event: any): string | undefined => event?.data?.notificationReceived?.notification?.task?.title;

/** How many results of `stream` carry each title (a title seen twice is a duplicate delivery). */
function countBy(stream: Stream, titleOf: (event: any) => string | undefined, prefix: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const event of stream.received) {
    const title = titleOf(event);
    if (title?.startsWith(prefix)) counts[title] = (counts[title] ?? 0) + 1;
  }
  return counts;
}

async function waitForTitles(stream: Stream, titleOf: (event: any) => string | undefined, titles: string[]) {
  for (const title of titles) await stream.waitForMatch((event) => titleOf(event) === title, 20_000);
}

/**
 * Two replica sets on one PostgreSQL database per subgraph and one Redis: set 1 (every subgraph
 * + gateway A) and set 2 (every subgraph again + gateway B, routed to set 2's subgraphs only).
 * Each set has its own event bus client, as separate processes would. Events produced on
 * either set reach subscribers on both gateways, each exactly once; a cursor taken on one
 * gateway resumes on the other.
 */
(configured ? describe : describe.skip)('subscriptions across gateway and subgraph replicas (PostgreSQL + Redis)', () => {
  let prepared: PreparedEnv;
  let setOne: Platform;
  let setTwo: Platform;
  let gatewayA: string;
  let gatewayB: string;
  let ada: SignedUp;
  let bob: SignedUp;
  const disposers: (() => Promise<unknown> | unknown)[] = [];

  beforeAll(async () => {
    prepared = await preparePlatformEnv({ name: 'distributed' });
    setOne = await startPlatform({ env: prepared.env });
    setTwo = await startPlatform({ env: prepared.env });
    gatewayA = setOne.gatewayUrl;
    gatewayB = setTwo.gatewayUrl;
    ada = await signUp(gatewayA, 'Ada');
    bob = await signUp(gatewayB, 'Bob');
  }, 120_000);

  afterAll(async () => {
    for (const dispose of disposers.reverse()) await dispose();
    await setTwo?.stop();
    await setOne?.stop();
    await prepared?.cleanup();
  });

  it('runs distinct replicas: each gateway routes to its own set of subgraphs', () => {
    for (const name of ['auth', 'user', 'task', 'notification', 'analytics'] as const) {
      expect(setOne.services[name].url).not.toBe(setTwo.services[name].url);
    }
    expect(gatewayA).not.toBe(gatewayB);
    expect(setOne.bus).not.toBe(setTwo.bus);
  });

  it('delivers an event produced on any replica to subscribers on every gateway, exactly once', async () => {
    const clients = [wsClient(gatewayA, ada.accessToken), wsClient(gatewayB, ada.accessToken), wsClient(gatewayA, bob.accessToken), wsClient(gatewayB, bob.accessToken)];
    for (const client of clients) disposers.push(() => client.dispose());
    const [onA, onB, bobOnA, bobOnB] = clients.map((client) => collect(client.iterate({ query: TASK_CHANGED }))) as [Stream, Stream, Stream, Stream];
    const notesA = collect(clients[2]!.iterate({ query: NOTIFICATIONS }));
    const notesB = collect(clients[3]!.iterate({ query: NOTIFICATIONS }));
    const streams = [onA, onB, bobOnA, bobOnB, notesA, notesB];
    for (const stream of streams) disposers.push(() => stream.stop());

    // Probes alternate between the sets and assign Bob, so that every stream (tasks and Bob's notifications) is live.
    let probe = 0;
    await primeStreams(streams, () => {
      probe += 1;
      return graphqlOk(probe % 2 ? gatewayA : gatewayB, CREATE_TASK, { token: ada.accessToken, variables: { title: `probe ${probe}`, a: bob.userId } });
    }, 20_000);

    // Changes made through set 1 (task replica 1) and set 2 (task replica 2), interleaved.
    const titles: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      const title = `replicated ${i}`;
      titles.push(title);
      await graphqlOk(i % 2 ? gatewayB : gatewayA, CREATE_TASK, { token: ada.accessToken, variables: { title, a: bob.userId } });
    }
    // A last change after the others: once it arrived, any duplicate of the earlier ones would have too.
    await graphqlOk(gatewayA, CREATE_TASK, { token: ada.accessToken, variables: { title: 'replicated end', a: bob.userId } });
    const expected = [...titles, 'replicated end'];
    for (const stream of [onA, onB, bobOnA, bobOnB]) await waitForTitles(stream, taskTitle, expected);
    for (const stream of [notesA, notesB]) await waitForTitles(stream, notifiedTitle, expected);

    // Each task change (created, then assigned) exactly once on every gateway, for every subscriber.
    for (const stream of [onA, onB, bobOnA, bobOnB]) {
      const created = stream.received.filter((event: any) => taskTitle(event)?.startsWith('replicated') && event.data.taskChanged.kind === 'CREATED');
      expect(created.map(taskTitle).sort()).toEqual([...expected].sort());
      expect(countBy(stream, taskTitle, 'replicated')).toEqual(Object.fromEntries(expected.map((title) => [title, 2])));
      const cursors = stream.received.map((event: any) => event.data.taskChanged.cursor);
      expect(new Set(cursors).size).toBe(cursors.length);
      // The cross-subgraph field came from the user subgraph of the gateway's own set.
      expect(created.every((event: any) => event.data.taskChanged.task.assignee.displayName === 'Bob')).toBe(true);
    }
    // Both notification replicas consume in one group: one notification per assignment, on both gateways.
    for (const stream of [notesA, notesB]) {
      expect(countBy(stream, notifiedTitle, 'replicated')).toEqual(Object.fromEntries(expected.map((title) => [title, 1])));
    }
    // Both gateways delivered the same events in the same cursors.
    const cursorsOf = (stream: Stream) => stream.received.filter((event: any) => taskTitle(event)?.startsWith('replicated')).map((event: any) => event.data.taskChanged.cursor).sort();
    expect(cursorsOf(onB)).toEqual(cursorsOf(onA));
    expect(cursorsOf(bobOnA)).toEqual(cursorsOf(onA));
    expect(notesA.received.filter((e: any) => notifiedTitle(e)?.startsWith('replicated')).map((e: any) => e.data.notificationReceived.cursor).sort()).toEqual(
      notesB.received.filter((e: any) => notifiedTitle(e)?.startsWith('replicated')).map((e: any) => e.data.notificationReceived.cursor).sort(),
    );
    for (const stream of streams) {
      expect(stream.failure).toBeUndefined();
      await stream.stop();
    }
  }, 90_000);

  it('resumes on one gateway with a cursor taken on the other, with no gap and no duplicate', async () => {
    const first = wsClient(gatewayA, ada.accessToken);
    disposers.push(() => first.dispose());
    const live = collect(first.iterate({ query: TASK_CHANGED }));
    disposers.push(() => live.stop());
    await primeStreams([live], () => graphqlOk(gatewayA, CREATE_TASK, { token: ada.accessToken, variables: { title: 'resume probe', a: null } }), 20_000);
    await graphqlOk(gatewayB, CREATE_TASK, { token: ada.accessToken, variables: { title: 'seen on A', a: null } });
    const seen = await live.waitForMatch((event) => taskTitle(event) === 'seen on A', 20_000);
    const cursor = seen.data.taskChanged.cursor as string;
    await live.stop();
    await first.dispose();

    // Missed while disconnected, produced on both replica sets.
    await graphqlOk(gatewayA, CREATE_TASK, { token: ada.accessToken, variables: { title: 'missed 1', a: null } });
    await graphqlOk(gatewayB, CREATE_TASK, { token: ada.accessToken, variables: { title: 'missed 2', a: null } });
    await graphqlOk(gatewayA, CREATE_TASK, { token: ada.accessToken, variables: { title: 'missed 3', a: null } });

    const second = wsClient(gatewayB, ada.accessToken);
    disposers.push(() => second.dispose());
    const resumed = collect(second.iterate({ query: TASK_CHANGED, variables: { after: cursor } }));
    disposers.push(() => resumed.stop());
    const missed = await resumed.waitFor(3, 20_000);
    expect(missed.map(taskTitle)).toEqual(['missed 1', 'missed 2', 'missed 3']);
    await graphqlOk(gatewayA, CREATE_TASK, { token: ada.accessToken, variables: { title: 'live after resume', a: null } });
    await resumed.waitForMatch((event) => taskTitle(event) === 'live after resume', 20_000);
    const titles = resumed.received.map(taskTitle);
    expect(titles).toEqual(['missed 1', 'missed 2', 'missed 3', 'live after resume']);
    const cursors = resumed.received.map((event: any) => event.data.taskChanged.cursor);
    expect(new Set(cursors).size).toBe(cursors.length);
    expect(cursors).not.toContain(cursor);
  }, 60_000);
});
