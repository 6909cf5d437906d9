import { ApolloLink } from '@apollo/client';
import { print, type ExecutionResult } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import { Observable } from 'rxjs';
import { hasErrorCode, SessionExpiredError, type GraphQLErrorLike } from './errors';
import type { SessionManager } from './session';

export type ConnectionStatus = 'connecting' | 'online' | 'offline';

export interface LiveSubscriptionLinkOptions {
  /** ws:// or wss:// URL of /graphql. */
  url: string;
  session: SessionManager;
  /** A WebSocket implementation outside the browser (the `ws` package in Node). */
  webSocketImpl?: unknown;
  /** Reconnection delays after the gateway went away: 500 ms doubling up to this (default 10 s). */
  maxRetryDelayMs?: number;
  onStatus?: (status: ConnectionStatus) => void;
  /** Consecutive server-side ends or refusals, without an event in between, before giving up (default 8). */
  maxResubscribeFailures?: number;
}

/** graphql-ws closes with 4403 when the token of connection_init is bad or expired. */
const CLOSE_FORBIDDEN = 4403;

/**
 * A terminating link for subscriptions over graphql-ws that survives what a long-lived
 * dashboard meets:
 *
 * - **Token expiry.** The gateway ends a subscription with UNAUTHENTICATED when the token the
 *   socket was opened with expires, and refuses a stale token at connection_init with 4403.
 *   The link refreshes the session (once, however many subscriptions notice), opens a socket
 *   with the new token and subscribes again.
 * - **Gateway restarts and network loss.** It resubscribes with backoff and reports the
 *   connection status so the screen can say so. A stream the server ends or refuses (a
 *   subgraph away, RATE_LIMITED) is resumed with backoff too: the dashboard's streams are
 *   meant to stay open while the person is signed in.
 * - **No gap, no duplicate.** It remembers the `cursor` of the last event of each
 *   subscription and resubscribes with `after: <cursor>` when the operation declares an
 *   `$after` variable, so the server replays exactly the events that were missed.
 *
 * graphql-ws's own retries are off: they would resubscribe with the original variables,
 * losing the cursor.
 */
export class LiveSubscriptionLink extends ApolloLink {
  private socket: { token: string; client: Client } | null = null;
  private status: ConnectionStatus = 'connecting';
  /** How many sockets were opened (diagnostics and tests). */
  socketsOpened = 0;

  constructor(private readonly options: LiveSubscriptionLinkOptions) {
    super();
  }

  get connectionStatus(): ConnectionStatus {
    return this.status;
  }

  /** Closes the socket (on sign-out). Running subscriptions end with it. */
  closeSocket(): void {
    this.socket?.client.dispose();
    this.socket = null;
  }

  override request(operation: ApolloLink.Operation): Observable<ApolloLink.Result> {
    const query = print(operation.query);
    const operationName = operation.operationName;
    const baseVariables = operation.variables;
    const resumable = operation.query.definitions.some(
      (definition) => definition.kind === 'OperationDefinition' && definition.variableDefinitions?.some((variable) => variable.variable.name.value === 'after'),
    );

    return new Observable<ApolloLink.Result>((observer) => {
      let after = typeof baseVariables.after === 'string' ? baseVariables.after : undefined;
      let generation = 0;
      let unsubscribe: (() => void) | null = null;
      let retryTimer: ReturnType<typeof setTimeout> | null = null;
      let failures = 0;
      let refusedTokens = 0;
      let stopped = false;

      const stop = () => {
        stopped = true;
        generation += 1;
        if (retryTimer) clearTimeout(retryTimer);
        unsubscribe?.();
        unsubscribe = null;
      };

      const fail = (error: Error) => {
        stop();
        observer.error(error);
      };

      /** The stream ended from the server's side: resume with backoff, give up after many failures in a row. */
      const resubscribeLater = () => {
        if (failures >= (this.options.maxResubscribeFailures ?? 8)) {
          fail(new Error('The live stream keeps failing; reload the page to try again.'));
          return;
        }
        const delay = Math.min(500 * 2 ** failures, this.options.maxRetryDelayMs ?? 10_000);
        failures += 1;
        retryTimer = setTimeout(() => void start(), delay);
      };

      const retryLater = () => {
        this.setStatus('offline');
        const delay = Math.min(500 * 2 ** failures, this.options.maxRetryDelayMs ?? 10_000);
        failures += 1;
        retryTimer = setTimeout(() => void start(), delay);
      };

      /** Drops the current attempt and starts again after refreshing the session past `staleToken`. */
      const restartWithFreshToken = (staleToken: string) => {
        const current = ++generation;
        // A fresh token refused again and again is not an expiry: stop instead of looping.
        if (++refusedTokens > 3) {
          fail(new SessionExpiredError('The server keeps refusing your session. Please sign in again.'));
          return;
        }
        unsubscribe?.();
        unsubscribe = null;
        this.options.session.refresh(staleToken).then(
          () => {
            if (current === generation && !stopped) void start();
          },
          (error: unknown) => {
            if (current !== generation || stopped) return;
            if (error instanceof SessionExpiredError) fail(error);
            else retryLater(); // the gateway is unreachable: try again, refreshing then
          },
        );
      };

      const start = async () => {
        const current = ++generation;
        let token: string | null;
        try {
          token = await this.options.session.getAccessToken();
        } catch (error) {
          if (current !== generation || stopped) return;
          if (error instanceof SessionExpiredError) fail(error);
          else retryLater();
          return;
        }
        if (current !== generation || stopped) return;
        if (!token) {
          fail(new SessionExpiredError('You are signed out. Please sign in.'));
          return;
        }
        const client = this.clientFor(token);
        const variables = resumable && after ? { ...baseVariables, after } : baseVariables;
        unsubscribe = client.subscribe<Record<string, unknown>>(
          { query, variables, operationName },
          {
            next: (result: ExecutionResult<Record<string, unknown>>) => {
              if (current !== generation) return;
              failures = 0;
              this.setStatus('online');
              if (hasErrorCode(result.errors as GraphQLErrorLike[] | undefined, 'UNAUTHENTICATED')) {
                restartWithFreshToken(token);
                return;
              }
              refusedTokens = 0;
              const cursor = cursorOf(result.data);
              if (cursor) after = cursor;
              observer.next(result as ApolloLink.Result);
            },
            error: (error: unknown) => {
              if (current !== generation) return;
              unsubscribe = null;
              if (closeCode(error) === CLOSE_FORBIDDEN) {
                restartWithFreshToken(token);
              } else if (Array.isArray(error)) {
                // The server refused the operation (RATE_LIMITED, a subgraph away...): say so, try again later.
                if (hasErrorCode(error as GraphQLErrorLike[], 'UNAUTHENTICATED')) restartWithFreshToken(token);
                else {
                  observer.next({ errors: error } as ApolloLink.Result);
                  resubscribeLater();
                }
              } else {
                retryLater();
              }
            },
            complete: () => {
              if (current !== generation) return;
              unsubscribe = null;
              // The server ended a stream the app wants open (a subgraph went away, the gateway
              // shed it): resume after the last cursor once it can.
              resubscribeLater();
            },
          },
        );
      };

      void start();
      return stop;
    });
  }

  private clientFor(token: string): Client {
    if (this.socket?.token === token) return this.socket.client;
    // The previous socket closes by itself once its last subscription is gone (lazy).
    const client = createClient({
      url: this.options.url,
      webSocketImpl: this.options.webSocketImpl,
      connectionParams: { authorization: `Bearer ${token}` },
      lazy: true,
      lazyCloseTimeout: 0,
      retryAttempts: 0,
      keepAlive: 10_000,
      on: {
        connected: () => this.setStatus('online'),
        closed: (event) => {
          // A normal close of an idle socket is not an outage; anything else is.
          const code = closeCode(event);
          if (code !== 1000 && code !== CLOSE_FORBIDDEN && this.socket?.client === client) this.setStatus('offline');
        },
      },
    });
    this.socketsOpened += 1;
    this.socket = { token, client };
    return client;
  }

  private setStatus(status: ConnectionStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.options.onStatus?.(status);
  }
}

/** The `cursor` of the subscription's root field, when it has one. */
export function cursorOf(data: Record<string, unknown> | null | undefined): string | undefined {
  if (!data) return undefined;
  for (const value of Object.values(data)) {
    const cursor = (value as { cursor?: unknown } | null)?.cursor;
    if (typeof cursor === 'string') return cursor;
  }
  return undefined;
}

function closeCode(event: unknown): number | undefined {
  const code = (event as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

