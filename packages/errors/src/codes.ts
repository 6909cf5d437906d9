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
  REQUEST_TOO_LARGE: {
    httpStatus: 413,
    description: 'The request body (or WebSocket message) is larger than the gateway accepts (`MAX_REQUEST_BODY_BYTES`).',
  },
  QUERY_TOO_DEEP: {
    httpStatus: 400,
    description: 'The operation nests fields deeper than the gateway allows (`MAX_QUERY_DEPTH`); nothing was executed.',
  },
  TOO_MANY_ALIASES: {
    httpStatus: 400,
    description: 'The operation uses more aliases than the gateway allows (`MAX_ALIASES`); nothing was executed.',
  },
  TOO_MANY_DIRECTIVES: {
    httpStatus: 400,
    description: 'The operation uses more directives than the gateway allows (`MAX_DIRECTIVES`); nothing was executed.',
  },
  TOO_MANY_TOKENS: {
    httpStatus: 400,
    description: 'The operation text has more tokens than the gateway parses (`MAX_TOKENS`); nothing was executed.',
  },
  QUERY_TOO_COSTLY: {
    httpStatus: 400,
    description: 'The estimated cost of the operation (from `@cost` / `@listSize` in the schema and list sizes asked for) is above the limit (`MAX_QUERY_COST`, `MAX_QUERY_COMPLEXITY`); `extensions.cost` and `extensions.limit` say by how much. Ask for smaller pages or fewer fields.',
  },
  OPERATION_NOT_TRUSTED: {
    httpStatus: 400,
    description: 'The gateway runs in trusted-documents mode and this operation is not in its manifest of registered operations; send a registered operation (by its hash).',
  },
  BATCH_TOO_LARGE: {
    httpStatus: 400,
    description: 'An HTTP batch holds more operations than the gateway accepts (`MAX_BATCH_SIZE`), or batching is off.',
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
  SUBSCRIPTION_INTERRUPTED: {
    httpStatus: 503,
    description:
      "The gateway worker process that held this subscription's upstream stream stopped (another one replaces it); resubscribe (with the last cursor) to continue.",
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
