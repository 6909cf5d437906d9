import { freePort, graphqlOk, preparePlatformEnv, type PreparedEnv } from '@meridian/testing';
import { startDistributedPlatform, type DistributedPlatform } from '../src/distributed';

const configured = Boolean(process.env.TEST_POSTGRES_URL && process.env.TEST_REDIS_URL);

// Separate processes need PostgreSQL and Redis; without them this suite has nothing to run against.
(configured ? describe : describe.skip)('distributed mode: every service its own process', () => {
  let prepared: PreparedEnv;
  let platform: DistributedPlatform;

  beforeAll(async () => {
    prepared = await preparePlatformEnv({ name: 'distributed' });
    const [auth, user, task, notification, analytics, gateway1, gateway2] = await Promise.all(Array.from({ length: 7 }, () => freePort()));
    platform = await startDistributedPlatform({
      env: { ...process.env, ...prepared.env, LOG_LEVEL: 'warn' },
      ports: { auth: auth!, user: user!, task: task!, notification: notification!, analytics: analytics!, gateway: [gateway1!, gateway2!] },
    });
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
    await prepared?.cleanup();
  });

  it('runs each service as its own OS process', () => {
    const pids = platform.processes.map((child) => child.child.pid);
    expect(platform.processes.map((child) => child.name).sort()).toEqual(['analytics', 'auth', 'gateway-1', 'gateway-2', 'notification', 'task', 'user']);
    expect(new Set(pids).size).toBe(7);
    expect(pids).not.toContain(process.pid);
  });

  it('signs up on one gateway replica and reads across subgraphs on the other', async () => {
    const [first, second] = platform.gatewayUrls as [string, string];
    const email = `dist-${Date.now()}@example.com`;
    const signUp = await graphqlOk(first, `mutation($e: String!) { signUp(input: { email: $e, password: "correct horse battery", displayName: "Dee" }) { accessToken user { id displayName } } }`, {
      variables: { e: email },
    });
    const token = signUp.signUp.accessToken as string;
    expect(signUp.signUp.user.displayName).toBe('Dee');
    await graphqlOk(second, `mutation($a: ID!) { createTask(input: { title: "Across processes", assigneeId: $a }) { id } }`, {
      token,
      variables: { a: signUp.signUp.user.id },
    });
    const me = await graphqlOk(first, '{ me { displayName assignedTasks { edges { node { title assignee { displayName } } } } } }', { token });
    expect(me.me).toEqual({
      displayName: 'Dee',
      assignedTasks: { edges: [{ node: { title: 'Across processes', assignee: { displayName: 'Dee' } } }] },
    });
  });
});
