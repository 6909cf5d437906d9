import { SessionExpiredError } from './errors';

/** What a signed-in browser keeps: the token pair and who it belongs to. */
export interface SessionTokens {
  accessToken: string;
  /** Single use: the auth subgraph revokes the whole session when a spent one comes back. */
  refreshToken: string;
  /** ISO date-time at which the access token stops working. */
  expiresAt: string;
  userId: string;
}

/** Where tokens live between page loads (localStorage in the browser, memory in tests). */
export interface TokenStore {
  load(): SessionTokens | null;
  save(tokens: SessionTokens | null): void;
}

/** Exchanges a refresh token for a new pair; throws SessionExpiredError when the server refuses it. */
export type RefreshSession = (refreshToken: string) => Promise<SessionTokens>;

/**
 * Runs `task` while holding an exclusive lock named `name`, shared by every tab of the origin
 * (Web Locks in the browser), so two tabs never spend the same refresh token.
 */
export type WithLock = <T>(name: string, task: () => Promise<T>) => Promise<T>;

export type SessionEvent = { type: 'signed-in' | 'refreshed' } | { type: 'signed-out'; reason: 'user' | 'expired' };

export interface SessionManagerOptions {
  store: TokenStore;
  refresh: RefreshSession;
  withLock?: WithLock;
  /** Refresh this long before the access token expires (default 30 s), so requests never carry an expired one. */
  refreshMarginMs?: number;
  now?: () => number;
}

export function createMemoryTokenStore(initial: SessionTokens | null = null): TokenStore {
  let tokens = initial;
  return {
    load: () => tokens,
    save: (next) => {
      tokens = next;
    },
  };
}

/** A lock for one JavaScript realm: tasks under the same name run one after the other. */
export function createInProcessLock(): WithLock {
  const tails = new Map<string, Promise<unknown>>();
  return async <T>(name: string, task: () => Promise<T>): Promise<T> => {
    const previous = tails.get(name) ?? Promise.resolve();
    const run = previous.then(task, task);
    const tail = run.catch(() => undefined);
    tails.set(name, tail);
    try {
      return await run;
    } finally {
      if (tails.get(name) === tail) tails.delete(name);
    }
  };
}

/**
 * Holds the session and hands out access tokens that are valid, refreshing them when needed.
 *
 * Refresh tokens are single use and reusing one revokes the session, so refreshing must
 * happen once however many requests and subscriptions notice the expiry at the same time:
 * concurrent callers share one in-flight refresh (single flight), and a caller that reports
 * a stale token which was already replaced gets the new one without another refresh. Across
 * tabs, the refresh runs under a lock and re-reads the store first, adopting the pair another
 * tab may have just obtained.
 */
export class SessionManager {
  private tokens: SessionTokens | null;
  private inFlight: Promise<SessionTokens> | null = null;
  private readonly listeners = new Set<(event: SessionEvent) => void>();
  private readonly withLock: WithLock;
  private readonly marginMs: number;
  private readonly now: () => number;
  /** How many times the refresh mutation was actually sent (for diagnostics and tests). */
  refreshCount = 0;

  constructor(private readonly options: SessionManagerOptions) {
    this.tokens = options.store.load();
    this.withLock = options.withLock ?? createInProcessLock();
    this.marginMs = options.refreshMarginMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  get current(): SessionTokens | null {
    return this.tokens;
  }

  get userId(): string | null {
    return this.tokens?.userId ?? null;
  }

  onChange(listener: (event: SessionEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  signIn(tokens: SessionTokens): void {
    this.setTokens(tokens);
    this.emit({ type: 'signed-in' });
  }

  /** Forgets the session locally (the caller ends it on the server first when it can). */
  signOut(reason: 'user' | 'expired' = 'user'): void {
    if (!this.tokens) return;
    this.setTokens(null);
    this.emit({ type: 'signed-out', reason });
  }

  /** An access token valid for at least the refresh margin, or null when signed out. */
  async getAccessToken(): Promise<string | null> {
    this.adoptStored();
    const tokens = this.tokens;
    if (!tokens) return null;
    if (Date.parse(tokens.expiresAt) - this.now() > this.marginMs) return tokens.accessToken;
    return (await this.refresh(tokens.accessToken)).accessToken;
  }

  /**
   * Gets a new pair. `staleAccessToken` is the token the caller saw rejected: when the session
   * has already moved past it, the current pair is returned without refreshing again.
   * Throws SessionExpiredError (and signs out) when the server refuses the refresh token.
   */
  refresh(staleAccessToken?: string): Promise<SessionTokens> {
    if (this.inFlight) return this.inFlight;
    this.adoptStored();
    const tokens = this.tokens;
    if (!tokens) return Promise.reject(new SessionExpiredError('You are signed out. Please sign in.'));
    if (staleAccessToken !== undefined && tokens.accessToken !== staleAccessToken) return Promise.resolve(tokens);

    const flight = this.withLock('meridian-session-refresh', async () => {
      // Another tab may have refreshed while this one waited for the lock.
      const stored = this.options.store.load();
      if (!stored) throw new SessionExpiredError('You were signed out in another tab. Please sign in.');
      if (stored.accessToken !== tokens.accessToken) {
        this.tokens = stored;
        return stored;
      }
      this.refreshCount += 1;
      const next = await this.options.refresh(stored.refreshToken);
      // Saved before the lock is released, so the next tab in line sees the new pair.
      this.setTokens(next);
      return next;
    }).then(
      (next) => {
        this.emit({ type: 'refreshed' });
        return next;
      },
      (error: unknown) => {
        if (error instanceof SessionExpiredError) this.signOut('expired');
        throw error;
      },
    );
    this.inFlight = flight;
    const clear = () => {
      if (this.inFlight === flight) this.inFlight = null;
    };
    flight.then(clear, clear);
    return flight;
  }

  private adoptStored(): void {
    const stored = this.options.store.load();
    if (stored?.accessToken === this.tokens?.accessToken) return;
    const wasSignedIn = this.tokens !== null;
    this.tokens = stored;
    if (!stored && wasSignedIn) this.emit({ type: 'signed-out', reason: 'user' });
  }

  private setTokens(tokens: SessionTokens | null): void {
    this.tokens = tokens;
    this.options.store.save(tokens);
  }

  private emit(event: SessionEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
