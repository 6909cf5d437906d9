import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { ServerError } from '@apollo/client/errors';
import { OperationTypeNode } from 'graphql';
import { Observable, type Subscription } from 'rxjs';
import { createAuthApi, type AuthApi } from './authApi';
import { hasErrorCode, SessionExpiredError, type GraphQLErrorLike } from './errors';
import { LiveSubscriptionLink, type ConnectionStatus } from './liveSubscriptionLink';
import { createQueryRetryLink } from './queryRetryLink';
import { createInProcessLock, SessionManager, type TokenStore, type WithLock } from './session';

export interface DashboardClientOptions {
  /** http(s) URL of the gateway's /graphql (in the browser: same origin, `${location.origin}/graphql`). */
  httpUrl: string;
  /** ws(s) URL of the same endpoint. */
  wsUrl: string;
  store: TokenStore;
  withLock?: WithLock;
  /** Refresh the access token this long before it expires (default 30 s). */
  refreshMarginMs?: number;
  fetch?: typeof fetch;
  webSocketImpl?: unknown;
  onConnectionStatus?: (status: ConnectionStatus) => void;
}

export interface DashboardClient {
  apollo: ApolloClient;
  session: SessionManager;
  auth: AuthApi;
  subscriptions: LiveSubscriptionLink;
  /** Ends the session on the server, forgets it here, closes the socket and clears the cache. */
  signOut(): Promise<void>;
  stop(): void;
}

export function createDashboardCache(): InMemoryCache {
  return new InMemoryCache({
    typePolicies: {
      // Statistics have no id: the query and the subscription write the same object per range.
      DashboardStats: { keyFields: false, merge: true },
      StatsTotals: { merge: true },
      User: {
        fields: {
          // The list query and live deliveries both write it; the newest value wins.
          unreadNotificationCount: { merge: (_existing, incoming: number | null) => incoming },
        },
      },
    },
  });
}

/**
 * Apollo Client for the dashboard: queries and mutations over HTTP with a bearer token that
 * is refreshed before it expires (and once more, then retried, if the gateway still says
 * UNAUTHENTICATED), queries retried after a transient failure, subscriptions over graphql-ws
 * through LiveSubscriptionLink.
 */
export function createDashboardClient(options: DashboardClientOptions): DashboardClient {
  const auth = createAuthApi(options.httpUrl, options.fetch);
  const session = new SessionManager({ store: options.store, refresh: auth.refreshSession, withLock: options.withLock ?? createInProcessLock(),
    refreshMarginMs: options.refreshMarginMs,
  });
  const subscriptions = new LiveSubscriptionLink({
    url: options.wsUrl,
    session,
    webSocketImpl: options.webSocketImpl,
    onStatus: options.onConnectionStatus,
  });
  const http = new HttpLink({ uri: options.httpUrl, fetch: options.fetch });
  const withToken = createBearerTokenLink(session);
  const link = ApolloLink.split(
    ({ operationType }) => operationType === OperationTypeNode.SUBSCRIPTION,
    subscriptions,
    ApolloLink.from([createQueryRetryLink(), withToken, http]),
  );
  const apollo = new ApolloClient({ link, cache: createDashboardCache() });

  return {
    apollo,
    session,
    auth,
    subscriptions,
    async signOut() {
      const token = session.current?.accessToken;
      session.signOut('user');
      subscriptions.closeSocket();
      await apollo.clearStore();
      if (token) await auth.logOut(token).catch(() => undefined);
    },
    stop() {
      subscriptions.closeSocket();
      apollo.stop();
    },
  };
}

/**
 * Adds `Authorization: Bearer <token>`; when the gateway answers UNAUTHENTICATED to a request
 * that carried a token (it expired in flight, or the signing key rotated), refreshes the
 * session past that token and sends the request once more.
 */
export function createBearerTokenLink(session: SessionManager): ApolloLink {
  return new ApolloLink((operation, forward) => {
    return new Observable<ApolloLink.Result>((observer) => {
      let inner: Subscription | undefined;
      let closed = false;

      const attempt = async (retried: boolean) => {
        let token: string | null;
        try {
          token = await session.getAccessToken();
        } catch (error) {
          observer.error(error);
          return;
        }
        if (closed) return;
        operation.setContext(({ headers }: { headers?: Record<string, string> }) => {
          const next = { ...headers };
          if (token) next.authorization = `Bearer ${token}`;
          else delete next.authorization;
          return { headers: next };
        });
        const retry = () => {
          inner?.unsubscribe();
          session.refresh(token ?? undefined).then(
            () => {
              if (!closed) void attempt(true);
            },
            (error: unknown) => observer.error(error),
          );
        };
        inner = forward(operation).subscribe({
          next: (result) => {
            if (token && !retried && hasErrorCode(result.errors as GraphQLErrorLike[] | undefined, 'UNAUTHENTICATED')) {
              retry();
              return;
            }
            observer.next(result);
          },
          error: (error: unknown) => {
            if (token && !retried && ServerError.is(error) && error.statusCode === 401) {
              retry();
              return;
            }
            if (ServerError.is(error) && error.statusCode === 401 && retried) {
              observer.error(new SessionExpiredError());
              return;
            }
            observer.error(error);
          },
          complete: () => {
            if (!closed) observer.complete();
          },
        });
      };

      void attempt(false);
      return () => {
        closed = true;
        inner?.unsubscribe();
      };
    });
  });
}
