/** Errors the dashboard explains to a person; each carries what the screen shows. */

/** The refresh token was refused (expired, revoked or reused): the person must sign in again. */
export class SessionExpiredError extends Error {
  override readonly name = 'SessionExpiredError';
  constructor(message = 'Your session has expired. Please sign in again.') {
    super(message);
  }
}

/** The gateway did not answer (down, restarting, network gone). */
export class GatewayUnavailableError extends Error {
  override readonly name = 'GatewayUnavailableError';
  constructor(detail?: string) {
    super(`The server cannot be reached right now${detail ? ` (${detail})` : ''}. Retrying…`);
  }
}

/** A GraphQL error as it arrives in a response. */
export interface GraphQLErrorLike {
  message: string;
  extensions?: Record<string, unknown> | null;
}

export function errorCode(error: GraphQLErrorLike | undefined): string | undefined {
  const code = error?.extensions?.code;
  return typeof code === 'string' ? code : undefined;
}

export function hasErrorCode(errors: readonly GraphQLErrorLike[] | undefined | null, code: string): boolean {
  return (errors ?? []).some((error) => errorCode(error) === code);
}

/**
 * One sentence for a person, from whatever an operation failed with: GraphQL errors by code,
 * HTTP failures, network failures.
 */
export function describeError(error: unknown): string {
  if (error instanceof SessionExpiredError || error instanceof GatewayUnavailableError) return error.message;
  const graphQLErrors = collectGraphQLErrors(error);
  const first = graphQLErrors[0];
  if (first) {
    switch (errorCode(first)) {
      case 'FORBIDDEN':
        return `You are not allowed to do that. ${first.message}`;
      case 'UNAUTHENTICATED':
        return first.message.includes('expired') ? 'Your session has expired. Please sign in again.' : first.message;
      case 'RATE_LIMITED': {
        const retryAfter = first.extensions?.retryAfter;
        return typeof retryAfter === 'number' ? `Too many attempts. Try again in ${retryAfter} s.` : 'Too many attempts. Try again shortly.';
      }
      case 'INTERNAL_SERVER_ERROR':
        return 'Something went wrong on the server. Please try again.';
      case 'GATEWAY_UNAVAILABLE':
      case 'SUBGRAPH_UNAVAILABLE':
        return `Part of the platform is unavailable right now: ${first.message}`;
      default:
        return first.message;
    }
  }
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  if (status === 502 || status === 503 || status === 504) return new GatewayUnavailableError(`HTTP ${status}`).message;
  if (error instanceof TypeError) return new GatewayUnavailableError(error.message).message;
  return error instanceof Error ? error.message : String(error);
}

/** GraphQL errors inside Apollo Client 4 errors (CombinedGraphQLErrors, ServerError with a body) or a plain list. */
export function collectGraphQLErrors(error: unknown): GraphQLErrorLike[] {
  if (!error || typeof error !== 'object') return [];
  const errors = (error as { errors?: unknown }).errors;
  if (Array.isArray(errors)) return errors as GraphQLErrorLike[];
  const result = (error as { result?: { errors?: unknown } }).result;
  if (result && Array.isArray(result.errors)) return result.errors as GraphQLErrorLike[];
  const bodyText = (error as { bodyText?: unknown }).bodyText;
  if (typeof bodyText === 'string') {
    try {
      const parsed = JSON.parse(bodyText) as { errors?: unknown };
      if (Array.isArray(parsed.errors)) return parsed.errors as GraphQLErrorLike[];
    } catch {
      // not JSON: no GraphQL errors to show
    }
  }
  return [];
}
