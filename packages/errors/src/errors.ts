import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { errorCodes, type ErrorCode } from './codes';

/**
 * Builds a client-visible GraphQL error carrying one of the registered codes. It does not set
 * the HTTP status: a resolver error is part of a 200 GraphQL response (a subgraph answering
 * 4xx would make the gateway treat the whole fetch as failed). See `withHttpStatus`.
 */
export function createError(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code } });
}

/**
 * For errors that end a request before execution (e.g. a bad token in the context function):
 * the response gets the code's HTTP status, e.g. 401 for UNAUTHENTICATED.
 */
export function withHttpStatus(error: GraphQLError): GraphQLError {
  const code = error.extensions.code as ErrorCode | undefined;
  const status = code && code in errorCodes ? errorCodes[code].httpStatus : 500;
  return new GraphQLError(error.message, { extensions: { ...error.extensions, http: { status } } });
}

export const unauthenticated = (message = 'You must be signed in.') => createError('UNAUTHENTICATED', message);
export const forbidden = (message = 'You are not allowed to do this.') => createError('FORBIDDEN', message);
export const notFound = (what: string, id?: string) =>
  createError('NOT_FOUND', id === undefined ? `${what} not found.` : `${what} ${id} not found.`);
export const conflict = (message: string, extensions: Record<string, unknown> = {}) =>
  createError('CONFLICT', message, extensions);
/** A bad argument: `field` is the input path, e.g. "input.email". */
export const badUserInput = (field: string, message: string) =>
  createError('BAD_USER_INPUT', `${field}: ${message}`, { field });

const knownCodes = new Set<string>(Object.keys(errorCodes));
// Codes produced by graphql-js / Apollo Server itself for malformed requests: safe to show as they are.
const requestErrorCodes = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

export interface MaskOptions {
  /** Called with the original error when it is masked, so it can be logged with its stack. */
  onMasked?: (error: unknown) => void;
  /** Keep `extensions.stacktrace` (development only). */
  includeStacktrace?: boolean;
}

/**
 * Apollo Server `formatError`: registered and request errors pass through; anything
 * else becomes INTERNAL_SERVER_ERROR with a generic message, and is reported to `onMasked`.
 */
export function createErrorMasker(options: MaskOptions = {}) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && (knownCodes.has(code) || requestErrorCodes.has(code)) && code !== 'INTERNAL_SERVER_ERROR') {
      if (options.includeStacktrace) return formatted;
      const { stacktrace: _omit, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    // Errors relayed from a subgraph by the gateway already went through that subgraph's masker.
    if (typeof code === 'string' && formatted.extensions?.serviceName !== undefined) return formatted;
    options.onMasked?.((error as { originalError?: unknown })?.originalError ?? error);
    return {
      message: 'Internal server error.',
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}
