import { ApolloLink } from '@apollo/client';
import { ServerError } from '@apollo/client/errors';
import { OperationTypeNode } from 'graphql';
import { Observable, type Subscription } from 'rxjs';
import { errorCode, type GraphQLErrorLike } from './errors';

/** Error codes that say "the platform failed this time", not "your request is wrong". */
const TRANSIENT_CODES = new Set(['INTERNAL_SERVER_ERROR', 'SUBGRAPH_UNAVAILABLE', 'GATEWAY_UNAVAILABLE']);

export interface QueryRetryOptions {
  /** Retries after the first attempt (default 2). */
  retries?: number;
  /** Delay before the first retry, doubled for each further one (default 300 ms). */
  delayMs?: number;
}

/** Is this failure worth sending the same query again? */
export function isTransientFailure(result: { errors?: readonly GraphQLErrorLike[] } | undefined, error?: unknown): boolean {
  if (error !== undefined) {
    if (ServerError.is(error)) return error.statusCode >= 500;
    return error instanceof TypeError; // fetch failed: network down, gateway restarting
  }
  const errors = result?.errors ?? [];
  return errors.length > 0 && errors.every((item) => TRANSIENT_CODES.has(errorCode(item) ?? ''));
}

/**
 * Sends a failed query again, a couple of times with backoff, when the failure was transient
 * (a subgraph request lost, the gateway briefly unreachable). Only queries: they read, so
 * repeating them is safe; mutations are never repeated behind the person's back.
 */
export function createQueryRetryLink(options: QueryRetryOptions = {}): ApolloLink {
  const retries = options.retries ?? 2;
  const delayMs = options.delayMs ?? 300;
  return new ApolloLink((operation, forward) => {
    if (operation.operationType !== OperationTypeNode.QUERY) return forward(operation);
    return new Observable<ApolloLink.Result>((observer) => {
      let inner: Subscription | undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let closed = false;
      const attempt = (n: number) => {
        let retrying = false;
        const again = () => {
          retrying = true;
          timer = setTimeout(() => {
            if (!closed) attempt(n + 1);
          }, delayMs * 2 ** n);
        };
        inner = forward(operation).subscribe({
          next: (result) => {
            if (n < retries && isTransientFailure(result as { errors?: GraphQLErrorLike[] })) {
              again();
              return;
            }
            observer.next(result);
          },
          error: (error: unknown) => {
            if (n < retries && isTransientFailure(undefined, error)) again();
            else observer.error(error);
          },
          complete: () => {
            if (!retrying) observer.complete();
          },
        });
      };
      attempt(0);
      return () => {
        closed = true;
        clearTimeout(timer);
        inner?.unsubscribe();
      };
    });
  });
}
