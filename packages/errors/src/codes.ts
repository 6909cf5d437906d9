/**
 * The one registry of error codes clients can see in `extensions.code`.
 * docs/errors.md is generated from this table (`npm run docs:errors`).
 */
export const errorCodes = {
  UNAUTHENTICATED: {
    httpStatus: 401,
    description: 'No valid credentials: the bearer token is missing where required, malformed, expired or its signature does not verify.',
  },
  FORBIDDEN: {
    httpStatus: 403,
    description: 'The caller is signed in but may not perform this operation on this resource.',
  },
  BAD_USER_INPUT: {
    httpStatus: 400,
    description: 'An argument is invalid. `extensions.field` names the offending input field; nothing was written.',
  },
  NOT_FOUND: {
    httpStatus: 404,
    description: 'The requested resource does not exist, or the caller may not know that it exists.',
  },
  CONFLICT: {
    httpStatus: 409,
    description: 'The change conflicts with existing state (for example, an email that is already registered).',
  },
  RATE_LIMITED: {
    httpStatus: 429,
    description: 'Too many requests; retry after the number of seconds in `extensions.retryAfter`.',
  },
  SUBSCRIBER_TOO_SLOW: {
    httpStatus: 503,
    description: 'A subscriber did not read its events fast enough and was ended rather than silently dropping events; resubscribe with the last cursor.',
  },
  SUBGRAPH_UNAVAILABLE: {
    httpStatus: 502,
    description: 'A subgraph needed for this operation cannot be reached, went away, or its circuit breaker is open; the rest of the data is returned. `extensions.serviceName` names it and `extensions.reason` says why. Retry later.',
  },
  SUBGRAPH_TIMEOUT: {
    httpStatus: 504,
    description: 'A subgraph needed for part of this operation did not answer within its time budget; the rest of the data is returned. `extensions.serviceName` names it. Retry later.',
  },
  SUPERGRAPH_RELOADED: {
    httpStatus: 503,
    description: 'The gateway switched to a new supergraph and ended this subscription, planned with the old one; resubscribe (with the last cursor) to continue on the new schema.',
  },
  SHUTTING_DOWN: {
    httpStatus: 503,
    description: 'The server is shutting down and ended this subscription; resubscribe (with the last cursor) to reach another replica.',
  },
  INTERNAL_SERVER_ERROR: {
    httpStatus: 500,
    description: 'An unexpected error. Details are logged on the server and never sent to clients.',
  },
} as const satisfies Record<string, { httpStatus: number; description: string }>;

export type ErrorCode = keyof typeof errorCodes;
