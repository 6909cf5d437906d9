import { z } from 'zod';
import { GraphQLError, parse } from 'graphql';
import { captureLogs, graphql } from '@meridian/testing';
import { createTokenVerifier } from '@meridian/tokens';
import {
  createShutdownStack,
  createSubgraphServer,
  decodeCursor,
  encodeCursor,
  envSchemas,
  loadServiceConfig,
  pageArgs,
  parseEnv,
  resolveServiceDataDir,
  startWithCleanup,
  toConnection,
  MAX_PAGE_SIZE,
} from '../src';

function thrown(fn: () => unknown): any {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('parseEnv', () => {
  const shape = {
    PORT: envSchemas.port(4000),
    DATABASE_URL: envSchemas.url(),
    LOG_LEVEL: envSchemas.logLevel(),
    REDIS_URL: envSchemas.optionalUrl(),
  };

  it('applies defaults and coerces', () => {
    expect(parseEnv(shape, { DATABASE_URL: 'postgresql://db/app', PORT: '0' })).toEqual({
      PORT: 0,
      DATABASE_URL: 'postgresql://db/app',
      LOG_LEVEL: 'info',
      REDIS_URL: undefined,
    });
  });

  it('names every offending variable in one error', () => {
    const error = thrown(() => parseEnv(shape, { PORT: '70000', LOG_LEVEL: 'loud', REDIS_URL: 'not a url' }));
    expect(error).toBeInstanceOf(Error);
    const lines = (error as Error).message.split('\n');
    expect(lines[0]).toBe('Invalid configuration:');
    expect(lines.slice(1).map((line) => line.trim().split(':')[0]).sort()).toEqual(['DATABASE_URL', 'LOG_LEVEL', 'PORT', 'REDIS_URL']);
    expect((error as Error).message).toMatch(/DATABASE_URL: .*\(not set\)/);
    expect((error as Error).message).toMatch(/REDIS_URL: must be an absolute URL/);
  });

  it('reads process.env by default', () => {
    process.env.SERVICE_KIT_TEST_VAR = 'abc';
    try {
      expect(parseEnv({ SERVICE_KIT_TEST_VAR: z.string().length(3) })).toEqual({ SERVICE_KIT_TEST_VAR: 'abc' });
    } finally {
      delete process.env.SERVICE_KIT_TEST_VAR;
    }
  });

  it('loadServiceConfig reads the per-service and platform variables, and names every bad one', () => {
    const config = loadServiceConfig('user', 4001, { USER_PORT: '0', DATA_DIR: ':memory:', JWKS_URL: 'http://auth/jwks.json' });
    expect(config).toMatchObject({
      service: 'user',
      port: 0,
      host: '127.0.0.1',
      database: { databaseUrl: undefined, dataDir: undefined },
      tokens: { jwksUrl: 'http://auth/jwks.json', issuer: 'meridian-auth', audience: 'meridian' },
      production: false,
    });
    const error = thrown(() =>
      loadServiceConfig('user', 4001, { USER_PORT: 'eighty', USER_DATABASE_URL: 'nope', REDIS_URL: 'also nope', NODE_ENV: 'prod' }),
    ) as Error;
    for (const variable of ['USER_PORT', 'USER_DATABASE_URL', 'REDIS_URL', 'NODE_ENV']) expect(error.message).toContain(`  ${variable}: `);
  });

  it('resolves a service data directory, or none for ":memory:"', () => {
    expect(resolveServiceDataDir(':memory:', 'user')).toBeUndefined();
    expect(resolveServiceDataDir('/var/data', 'user')).toBe('/var/data/user');
  });
});

describe('pagination', () => {
  it('defaults first to 20 and accepts 0..100', () => {
    expect(pageArgs({})).toEqual({ first: 20, afterId: undefined });
    expect(pageArgs({ first: null, after: null })).toEqual({ first: 20, afterId: undefined });
    expect(pageArgs({ first: 0 }).first).toBe(0);
    expect(pageArgs({ first: MAX_PAGE_SIZE }).first).toBe(100);
  });

  it.each([-1, 101, 1.5, Number.NaN])('rejects first = %p as BAD_USER_INPUT naming "first"', (first) => {
    const error = thrown(() => pageArgs({ first }));
    expect(error).toBeInstanceOf(GraphQLError);
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    expect(error.message).toBe('first: must be between 0 and 100.');
  });

  it('round-trips cursors and rejects forged ones naming the field', () => {
    const cursor = encodeCursor('01JABC');
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(pageArgs({ after: cursor })).toEqual({ first: 20, afterId: '01JABC' });
    for (const bad of ['garbage', Buffer.from('x:01JABC').toString('base64url'), Buffer.from('c:').toString('base64url')]) {
      const error = thrown(() => pageArgs({ after: bad }));
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    }
    expect(thrown(() => decodeCursor('garbage', 'before')).extensions.field).toBe('before');
  });

  it('builds a Relay connection', () => {
    const connection = toConnection({ rows: [{ id: 'a' }, { id: 'b' }], hasNextPage: true, totalCount: 7 });
    expect(connection.edges.map((edge) => edge.node.id)).toEqual(['a', 'b']);
    expect(connection.pageInfo).toEqual({ hasNextPage: true, endCursor: encodeCursor('b') });
    expect(connection.totalCount).toBe(7);
    expect(toConnection({ rows: [], hasNextPage: false })).toEqual({
      edges: [],
      pageInfo: { hasNextPage: false, endCursor: null },
      totalCount: 0,
    });
  });
});

describe('startWithCleanup', () => {
  it('unwinds what was started in reverse order when start-up fails, and rethrows the cause', async () => {
    const stopped: string[] = [];
    const failure = new Error('http: port in use');
    await expect(
      startWithCleanup(async (stack) => {
        stack.defer('database', () => {
          stopped.push('database');
        });
        stack.defer('relay', async () => {
          stopped.push('relay');
          throw new Error('relay already stopped'); // a failing step does not stop the unwinding
        });
        stack.defer('handlers', async () => {
          stopped.push('handlers');
        });
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(stopped).toEqual(['handlers', 'relay', 'database']);
  });

  it('leaves a started service running until it is stopped, then stops it once', async () => {
    const stopped: string[] = [];
    const handle = await startWithCleanup(async (stack) => {
      stack.defer('a', () => void stopped.push('a'));
      stack.defer('b', () => void stopped.push('b'));
      return { stop: () => stack.stop() };
    });
    expect(stopped).toEqual([]);
    await Promise.all([handle.stop(), handle.stop()]);
    await handle.stop();
    expect(stopped).toEqual(['b', 'a']);
  });

  it('reports every failing stop action by name', async () => {
    const stack = createShutdownStack();
    stack.defer('database', () => {
      throw new Error('already closed');
    });
    stack.defer('http', async () => {
      throw new Error('not listening');
    });
    await expect(stack.stop()).rejects.toThrow('Errors while stopping:\n  http: not listening\n  database: already closed');
  });
});

describe('createSubgraphServer', () => {
  const logs = captureLogs();
  const server = createSubgraphServer({
    name: 'kit-test',
    typeDefs: parse(`
      type Query { hello: String! broken: String }
    `),
    resolvers: {
      Query: {
        hello: (_: unknown, __: unknown, context: { viewer: { kind: string } }) => `hello ${context.viewer.kind}`,
        broken: () => {
          throw new Error('db password=hunter2 rejected');
        },
      },
    },
    // Anonymous requests never reach the JWKS endpoint; a bad header is rejected before it.
    verifier: createTokenVerifier({ jwksUrl: 'http://127.0.0.1:9/jwks.json', issuer: 'i', audience: 'a' }),
    logger: logs.logger,
    createContext: (base) => base,
    isReady: async () => undefined,
  });
  let url = '';

  beforeAll(async () => {
    url = (await server.listen(0)).url;
  });
  afterAll(async () => {
    await server.close();
    await server.close(); // safe twice
  });

  it('serves GraphQL with an anonymous viewer, plus health and readiness probes', async () => {
    expect((await graphql(`${url}/graphql`, '{ hello }')).data).toEqual({ hello: 'hello anonymous' });
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok', service: 'kit-test' });
    expect(await (await fetch(`${url}/readyz`)).json()).toEqual({ status: 'ready', service: 'kit-test', checks: { database: 'ok' } });
  });

  it('masks a resolver crash for the client and logs it with its stack', async () => {
    const result = await graphql(`${url}/graphql`, '{ broken }');
    expect(result.status).toBe(200);
    expect(result.errors).toEqual([{ message: 'Internal server error.', path: ['broken'], locations: expect.any(Array), extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
    expect(JSON.stringify(result)).not.toContain('hunter2');
    const logged = logs.entries().find((entry) => entry.msg === 'unexpected error in resolver');
    expect(logged?.err?.stack).toContain('db password=hunter2 rejected');
  });

  it('answers a malformed Authorization header with UNAUTHENTICATED', async () => {
    const result = await graphql(`${url}/graphql`, '{ hello }', { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(result.status).toBe(401);
    expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(result.data ?? null).toBeNull();
  });

  it('reports validation errors as they are, without a stack trace', async () => {
    const result = await graphql(`${url}/graphql`, '{ nope }');
    expect(result.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(result.errors?.[0]?.extensions).not.toHaveProperty('stacktrace');
  });
});
