import { createInProcessLock, createMemoryTokenStore, SessionExpiredError, SessionManager, type SessionEvent, type SessionTokens } from '../src/lib';

/**
 * The auth subgraph's refresh rules, in memory: a refresh token works once; presenting a spent
 * one revokes the whole session (so a client that refreshes twice with the same token signs
 * its user out). The platform test in apps/launcher runs the same client against the real one.
 */
function createRefreshServer(now: () => number, ttlMs = 60_000) {
  let generation = 0;
  let valid = 'r0';
  let revoked = false;
  const server = {
    calls: 0,
    pair(): SessionTokens {
      generation += 1;
      valid = `r${generation}`;
      return { accessToken: `a${generation}`, refreshToken: valid, expiresAt: new Date(now() + ttlMs).toISOString(), userId: 'u1' };
    },
    async refresh(refreshToken: string): Promise<SessionTokens> {
      server.calls += 1;
      await new Promise((resolve) => setImmediate(resolve)); // a real round trip is never synchronous
      if (revoked || refreshToken !== valid) {
        revoked = true;
        throw new SessionExpiredError();
      }
      return server.pair();
    },
    get revoked() {
      return revoked;
    },
  };
  return server;
}

describe('SessionManager', () => {
  let clock = Date.parse('2026-11-21T10:00:00.000Z');
  const now = () => clock;

  it('hands out the current token while it is valid, without refreshing', async () => {
    const server = createRefreshServer(now);
    const session = new SessionManager({ store: createMemoryTokenStore(server.pair()), refresh: server.refresh, now });
    await expect(session.getAccessToken()).resolves.toBe('a1');
    expect(server.calls).toBe(0);
  });

  it('refreshes once for many concurrent callers when the token is about to expire', async () => {
    const server = createRefreshServer(now);
    const session = new SessionManager({ store: createMemoryTokenStore(server.pair()), refresh: server.refresh, now, refreshMarginMs: 30_000 });
    clock += 45_000; // 15 s left: inside the margin
    const tokens = await Promise.all(Array.from({ length: 20 }, () => session.getAccessToken()));
    expect(new Set(tokens)).toEqual(new Set(['a2']));
    expect(server.calls).toBe(1);
    expect(server.revoked).toBe(false);
  });

  it('does not refresh again for a caller reporting a token that was already replaced', async () => {
    const server = createRefreshServer(now);
    const session = new SessionManager({ store: createMemoryTokenStore(server.pair()), refresh: server.refresh, now });
    await session.refresh('a1');
    // A subscription that started with a1 reports it expired after the refresh happened.
    const late = await session.refresh('a1');
    expect(late.accessToken).toBe('a2');
    expect(server.calls).toBe(1);
    // Reporting the current token does refresh.
    await expect(session.refresh('a2')).resolves.toMatchObject({ accessToken: 'a3' });
    expect(server.revoked).toBe(false);
  });

  it('two tabs sharing storage and a lock spend the refresh token once', async () => {
    const server = createRefreshServer(now);
    const store = createMemoryTokenStore(server.pair());
    const withLock = createInProcessLock();
    const tabA = new SessionManager({ store, refresh: server.refresh, withLock, now });
    const tabB = new SessionManager({ store, refresh: server.refresh, withLock, now });
    const [a, b] = await Promise.all([tabA.refresh('a1'), tabB.refresh('a1')]);
    expect(a.accessToken).toBe('a2');
    expect(b.accessToken).toBe('a2');
    expect(server.calls).toBe(1);
    expect(server.revoked).toBe(false);
  });

  it('signs out with reason "expired" when the server refuses the refresh token', async () => {
    const server = createRefreshServer(now);
    const store = createMemoryTokenStore({ accessToken: 'old', refreshToken: 'spent', expiresAt: new Date(clock - 1).toISOString(), userId: 'u1' });
    const session = new SessionManager({ store, refresh: server.refresh, now });
    const events: SessionEvent[] = [];
    session.onChange((event) => events.push(event));
    const results = await Promise.allSettled([session.getAccessToken(), session.getAccessToken()]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(SessionExpiredError);
    expect(events).toEqual([{ type: 'signed-out', reason: 'expired' }]);
    expect(store.load()).toBeNull();
    await expect(session.getAccessToken()).resolves.toBeNull();
  });

  it('keeps the session when the refresh fails for another reason (gateway down), and succeeds later', async () => {
    const server = createRefreshServer(now);
    let down = true;
    const session = new SessionManager({
      store: createMemoryTokenStore(server.pair()),
      refresh: (token) => (down ? Promise.reject(new TypeError('fetch failed')) : server.refresh(token)),
      now,
    });
    await expect(session.refresh('a1')).rejects.toThrow('fetch failed');
    expect(session.current?.accessToken).toBe('a1');
    down = false;
    await expect(session.refresh('a1')).resolves.toMatchObject({ accessToken: 'a2' });
  });
});
