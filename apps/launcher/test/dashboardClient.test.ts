import WebSocket from 'ws';
import { createDashboardClient, createMemoryTokenStore, type DashboardClient } from '@meridian/dashboard/client';
import { CreateTaskDocument, MeDocument, TaskChangedDocument } from '@meridian/dashboard/operations';
import { eventually, getTestModes, preparePlatformEnv, type PreparedEnv } from '@meridian/testing';
import { startPlatform, type Platform } from '../src/platform';

/**
 * The dashboard's client core (session refresh, bearer link, resumable subscriptions) against
 * the real platform, with access tokens that live 10 seconds so they expire during the tests.
 */
/** Long enough that a busy machine signs up and subscribes well within it. */
const TTL_SECONDS = 10;
/** Platform start and token expiry waits are slow on a loaded machine. */
const SLOW = 240_000;

describe.each(getTestModes())('dashboard client against the platform ($name)', (mode) => {
  let prepared: PreparedEnv;
  let platform: Platform;
  const clients: DashboardClient[] = [];

  beforeAll(async () => {
    prepared = await preparePlatformEnv(mode);
    platform = await startPlatform({ env: { ...prepared.env, ACCESS_TOKEN_TTL_SECONDS: String(TTL_SECONDS) } });
  }, SLOW);

  afterAll(async () => {
    for (const client of clients) client.stop();
    await platform?.stop();
    await prepared?.cleanup();
  });

  async function signedIn(name: string) {
    const client = createDashboardClient({
      httpUrl: platform.gatewayUrl,
      wsUrl: platform.gatewayUrl.replace(/^http/, 'ws'),
      store: createMemoryTokenStore(),
      webSocketImpl: WebSocket,
      refreshMarginMs: 2_000,
    });
    clients.push(client);
    const email = `${name.toLowerCase()}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
    const tokens = await client.auth.signUp({ email, password: 'correct horse battery staple', displayName: name });
    client.session.signIn(tokens);
    return client;
  }

  /** Waits (with a deadline) until the access token the client holds has expired. */
  const untilExpired = (client: DashboardClient) =>
    eventually(() => {
      if (Date.parse(client.session.current!.expiresAt) > Date.now()) throw new Error('token still valid');
    }, (TTL_SECONDS + 10) * 1000, 100);

  // The first two tests each wait for a token to expire: their users sign in together, so the two
  // waits overlap instead of adding up (neither client sends anything before its test).
  let early: Promise<{ ada: DashboardClient; grace: DashboardClient }>;
  beforeAll(() => {
    early = Promise.all([signedIn('Ada'), signedIn('Grace')]).then(([ada, grace]) => ({ ada, grace }));
    return early;
  }, SLOW);

  it('refreshes once when many requests find the token expired, and the rotated session keeps working', async () => {
    const { ada } = await early;
    const firstToken = ada.session.current!.accessToken;
    await untilExpired(ada);
    expect(ada.session.refreshCount).toBe(0);
    const results = await Promise.all(Array.from({ length: 6 }, () => ada.apollo.query({ query: MeDocument, fetchPolicy: 'network-only' })));
    for (const result of results) expect(result.data?.me?.displayName).toBe('Ada');
    expect(ada.session.refreshCount).toBe(1);
    expect(ada.session.current!.accessToken).not.toBe(firstToken);
    // Reusing a spent refresh token would have revoked the session: the next rotation still works.
    await ada.session.refresh(ada.session.current!.accessToken);
    expect(ada.session.refreshCount).toBe(2);
    const me = await ada.apollo.query({ query: MeDocument, fetchPolicy: 'network-only' });
    expect(me.data?.me?.displayName).toBe('Ada');
  }, SLOW);

  it('retries once with a fresh token when the gateway says the token it was sent expired', async () => {
    const { grace } = await early;
    const real = grace.session.current!;
    // The browser's clock is behind: it believes the token is valid for an hour more.
    grace.session.signIn({ ...real, expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    // The gateway accepts tokens up to 5 s past their expiry (clock tolerance).
    await eventually(() => {
      if (Date.parse(real.expiresAt) + 6_000 > Date.now()) throw new Error('token still accepted');
    }, (TTL_SECONDS + 15) * 1000, 100);
    const me = await grace.apollo.query({ query: MeDocument, fetchPolicy: 'network-only' });
    expect(me.data?.me?.displayName).toBe('Grace');
    expect(grace.session.refreshCount).toBe(1);
  }, SLOW);

  it('keeps a subscription alive across token expiry: refreshes, resubscribes after its cursor, no gap, no duplicate', async () => {
    const ada = await signedIn('Ada');
    const bob = await signedIn('Bob');
    const titles: string[] = [];
    const errors: unknown[] = [];
    const subscription = bob.apollo.subscribe({ query: TaskChangedDocument }).subscribe({
      next: (result) => {
        if (result.error) errors.push(result.error);
        const change = result.data?.taskChanged;
        if (change?.kind === 'CREATED' && change.task) titles.push(change.task.title);
      },
      error: (error) => errors.push(error),
    });
    try {
      // graphql-ws has no "subscribed" message: create probes until one arrives.
      await eventually(async () => {
        await ada.apollo.mutate({ mutation: CreateTaskDocument, variables: { input: { title: 'probe' } } });
        if (!titles.includes('probe')) throw new Error(`subscription not live yet ${JSON.stringify(errors)} ${bob.subscriptions.connectionStatus} refreshes=${bob.session.refreshCount} sockets=${bob.subscriptions.socketsOpened} ${(errors[0] as Error)?.message}`);
      }, 15_000, 200);
      const socketsBefore = bob.subscriptions.socketsOpened;
      const expiresAt = Date.parse(bob.session.current!.expiresAt);

      // Ada keeps creating tasks while Bob's token expires and his client reconnects.
      const created: string[] = [];
      for (let i = 0; Date.now() < expiresAt + 1_500 || bob.subscriptions.socketsOpened === socketsBefore; i += 1) {
        const title = `live-${i}`;
        await ada.apollo.mutate({ mutation: CreateTaskDocument, variables: { input: { title } } });
        created.push(title);
        await new Promise((resolve) => setTimeout(resolve, 150));
        if (i > 400) throw new Error('the subscription never reconnected');
      }
      await ada.apollo.mutate({ mutation: CreateTaskDocument, variables: { input: { title: 'last' } } });
      created.push('last');

      await eventually(() => expect(titles.filter((title) => title !== 'probe')).toEqual(created), 15_000, 100);
      expect(errors).toEqual([]);
      expect(bob.session.refreshCount).toBeGreaterThanOrEqual(1);
      expect(bob.subscriptions.socketsOpened).toBeGreaterThan(socketsBefore);
    } finally {
      subscription.unsubscribe();
    }
  }, SLOW);
});
