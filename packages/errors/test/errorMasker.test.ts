import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import {
  badUserInput,
  conflict,
  createError,
  createErrorMasker,
  errorCodes,
  forbidden,
  notFound,
  unauthenticated,
  withHttpStatus,
  type ErrorCode,
} from '../src';

/** What Apollo Server hands to formatError: the formatted error plus the thrown one wrapped in a GraphQLError. */
function asApolloWouldFormat(thrown: unknown, extra: Record<string, unknown> = {}): [GraphQLFormattedError, GraphQLError] {
  const wrapped =
    thrown instanceof GraphQLError
      ? thrown
      : new GraphQLError((thrown as Error).message, { path: ['broken'], originalError: thrown as Error });
  const formatted = wrapped.toJSON();
  return [
    { ...formatted, extensions: { code: 'INTERNAL_SERVER_ERROR', ...formatted.extensions, stacktrace: ['Error: x', '    at secret.ts:1:1'], ...extra } },
    wrapped,
  ];
}

describe('createErrorMasker', () => {
  it.each([
    ['UNAUTHENTICATED', unauthenticated()],
    ['FORBIDDEN', forbidden()],
    ['NOT_FOUND', notFound('Task', 't1')],
    ['CONFLICT', conflict('input.email: taken', { field: 'input.email' })],
    ['BAD_USER_INPUT', badUserInput('input.title', 'must not be empty.')],
    ['RATE_LIMITED', createError('RATE_LIMITED', 'Slow down.', { retryAfter: 3 })],
  ] as [ErrorCode, GraphQLError][])('passes a registered %s error through with its message and extensions', (code, error) => {
    const onMasked = jest.fn();
    const [formatted, original] = asApolloWouldFormat(error);
    const result = createErrorMasker({ onMasked })(formatted, original);
    expect(result.message).toBe(error.message);
    expect(result.extensions?.code).toBe(code);
    // Resolver errors travel in a 200 response: the gateway would drop a subgraph's 4xx fetch.
    expect(result.extensions).not.toHaveProperty('http');
    expect(result.extensions).not.toHaveProperty('stacktrace');
    expect(onMasked).not.toHaveBeenCalled();
  });

  it('keeps the field of a BAD_USER_INPUT error', () => {
    const error = badUserInput('input.email', 'must be a valid email address.');
    const result = createErrorMasker()(...asApolloWouldFormat(error));
    expect(result.extensions?.field).toBe('input.email');
    expect(result.message).toBe('input.email: must be a valid email address.');
  });

  it('lets graphql-js request errors (validation, parse) through', () => {
    const formatted: GraphQLFormattedError = {
      message: 'Cannot query field "nope" on type "Query".',
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    };
    const onMasked = jest.fn();
    expect(createErrorMasker({ onMasked })(formatted, new GraphQLError(formatted.message))).toEqual(formatted);
    expect(onMasked).not.toHaveBeenCalled();
  });

  it('masks an unexpected error: generic message, INTERNAL_SERVER_ERROR, no stack, original reported', () => {
    const onMasked = jest.fn();
    const secret = new Error('connect ECONNREFUSED 10.0.0.7:5432 password=hunter2');
    const [formatted, wrapped] = asApolloWouldFormat(secret);
    const result = createErrorMasker({ onMasked })(formatted, wrapped);

    expect(result).toEqual({ message: 'Internal server error.', path: ['broken'], extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(JSON.stringify(result)).not.toMatch(/hunter2|ECONNREFUSED|secret\.ts|stacktrace/);
    // The original (with its stack) goes to the logger, not the wrapper.
    expect(onMasked).toHaveBeenCalledTimes(1);
    expect(onMasked).toHaveBeenCalledWith(secret);
    expect((onMasked.mock.calls[0][0] as Error).stack).toContain('errorMasker.test');
  });

  it('masks errors carrying an unregistered code, and an explicit INTERNAL_SERVER_ERROR', () => {
    const masker = createErrorMasker({ onMasked: jest.fn() });
    const unknownCode = new GraphQLError('Prisma P2025: record to update not found in table "users"', {
      extensions: { code: 'P2025' },
    });
    const internal = createError('INTERNAL_SERVER_ERROR', 'db exploded at row 42');
    for (const error of [unknownCode, internal]) {
      const result = masker(...asApolloWouldFormat(error));
      expect(result.message).toBe('Internal server error.');
      expect(result.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
    }
  });

  it('masks a thrown non-Error value and still reports it', () => {
    const onMasked = jest.fn();
    const formatted: GraphQLFormattedError = { message: 'Unexpected error value: "boom"', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    const result = createErrorMasker({ onMasked })(formatted, 'boom');
    expect(result).toEqual({ message: 'Internal server error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(onMasked).toHaveBeenCalledWith('boom');
  });

  it('keeps the stacktrace of registered errors only when asked to (development)', () => {
    const [formatted, original] = asApolloWouldFormat(forbidden());
    expect(createErrorMasker({ includeStacktrace: true })(formatted, original).extensions?.stacktrace).toBeDefined();
    expect(createErrorMasker()(formatted, original).extensions?.stacktrace).toBeUndefined();
  });

  it('passes errors a subgraph already masked when the gateway relays them', () => {
    const onMasked = jest.fn();
    const relayed: GraphQLFormattedError = {
      message: 'Internal server error.',
      extensions: { code: 'INTERNAL_SERVER_ERROR', serviceName: 'task' },
    };
    expect(createErrorMasker({ onMasked })(relayed, new GraphQLError(relayed.message))).toEqual(relayed);
    expect(onMasked).not.toHaveBeenCalled();
  });
});

describe('withHttpStatus', () => {
  it("gives request-ending errors their code's HTTP status, keeping message and extensions", () => {
    const error = withHttpStatus(unauthenticated('Access token expired.'));
    expect(error).toBeInstanceOf(GraphQLError);
    expect(error.message).toBe('Access token expired.');
    expect(error.extensions).toEqual({ code: 'UNAUTHENTICATED', http: { status: 401 } });
    expect(withHttpStatus(badUserInput('input.x', 'bad')).extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'input.x', http: { status: 400 } });
    expect(withHttpStatus(new GraphQLError('odd', { extensions: { code: 'WHATEVER' } })).extensions.http).toEqual({ status: 500 });
  });
});

describe('error registry', () => {
  it('describes every code and maps it to an HTTP status', () => {
    for (const [code, entry] of Object.entries(errorCodes)) {
      expect(code).toMatch(/^[A-Z_]+$/);
      expect(entry.description.length).toBeGreaterThan(10);
      expect(entry.httpStatus).toBeGreaterThanOrEqual(400);
    }
  });
});
