import { GraphQLError, type GraphQLFormattedError } from 'graphql';

export type FormatError = (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

/** Status and headers that errors ask for through `extensions.http` (Apollo Server's convention). */
export interface HttpFromErrors {
  status?: number;
  headers: Map<string, string>;
}

/**
 * The errors of a response as Apollo Server 5 formats them (its `normalizeAndFormatErrors`, which
 * the package does not export): every error becomes a GraphQLError, gets a code
 * (`INTERNAL_SERVER_ERROR` when it has none), gives up `extensions.http` to the response's status
 * and headers, and goes through `formatError`; a formatter that throws yields a bare internal
 * error. Stack traces are never included (the gateway runs with
 * `includeStacktraceInErrorResponses: false`). The differential test of the direct path compares
 * the result with Apollo Server's own, byte for byte.
 */
export function formatErrors(errors: readonly unknown[], formatError: FormatError): { formatted: GraphQLFormattedError[]; http: HttpFromErrors } {
  const http: HttpFromErrors = { headers: new Map() };
  const formatted = errors.map((error) => {
    try {
      return formatError(enrich(error, http), error);
    } catch {
      return { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    }
  });
  return { formatted, http };
}

function enrich(maybeError: unknown, http: HttpFromErrors): GraphQLFormattedError {
  const error = asGraphQLError(maybeError);
  const extensions: Record<string, unknown> = { ...error.extensions, code: error.extensions.code ?? 'INTERNAL_SERVER_ERROR' };
  const head = extensions.http as { status?: unknown; headers?: unknown } | undefined;
  if (head && typeof head === 'object' && (!('status' in head) || typeof head.status === 'number') && (!('headers' in head) || head.headers instanceof Map)) {
    if (head.status) http.status = head.status as number;
    if (head.headers) for (const [name, value] of head.headers as Map<string, string>) http.headers.set(name, value);
    delete extensions.http;
  }
  return { ...error.toJSON(), extensions };
}

function asGraphQLError(maybeError: unknown): GraphQLError {
  const error = maybeError instanceof Error ? maybeError : new GraphQLError(`Unexpected error value: ${String(maybeError)}`);
  return error instanceof GraphQLError ? error : new GraphQLError(error.message, { originalError: error });
}
