import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayCacheHint, GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { createSharedFetches } from '../src/subscriptions/sharedFetches';

/**
 * A subgraph stand-in for the sharing logic alone (the end-to-end behaviour, with the real user
 * subgraph's Cache-Control, is in apps/launcher/test/subscriptionSharing.test.ts): it answers each
 * fetch when the test releases it, with the cache hint the test chose, and records who asked.
 */
function fakeSubgraph() {
  const calls: { token: string; release: (answer: { data?: unknown; errors?: unknown[]; hint?: GatewayCacheHint }) => void }[] = [];
  const source: GraphQLDataSource = {
    process(options: GraphQLDataSourceProcessOptions) {
      return new Promise<GatewayGraphQLResponse>((resolve) => {
        calls.push({
          token: (options.context as { token: string }).token,
          release: ({ data, errors, hint }) => {
            if (hint && 'incomingRequestContext' in options) (options.incomingRequestContext.overallCachePolicy as { restrict(h: GatewayCacheHint): void }).restrict(hint);
            resolve({ data: data as GatewayGraphQLResponse['data'], ...(errors ? { errors: errors as never } : {}) });
          },
        });
      });
    },
  };
  return { source, calls };
}

const PUBLIC: GatewayCacheHint = { maxAge: 30, scope: 'PUBLIC' };
const PRIVATE: GatewayCacheHint = { maxAge: 30, scope: 'PRIVATE' };
const QUERY = 'query($representations:[_Any!]!){_entities(representations:$representations){...on User{displayName}}}';

function fetchAs(service: GraphQLDataSource, token: string, id = 'u1', restrict?: (hint: GatewayCacheHint) => void) {
  return service.process({
    kind: 'incoming operation',
    request: { query: QUERY, variables: { representations: [{ __typename: 'User', id }] } },
    incomingRequestContext: { overallCachePolicy: { restrict: restrict ?? (() => undefined) } },
    context: { token },
  } as unknown as GraphQLDataSourceProcessOptions);
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('shared entity fetches of subscription events', () => {
  it('answers identical in-flight fetches of other scopes from one public answer, each with its own copy', async () => {
    const shared: string[] = [];
    const { source, calls } = fakeSubgraph();
    const service = createSharedFetches({ onShared: (name) => shared.push(name) }).wrap({ user: source })['user']!;
    const hints: GatewayCacheHint[] = [];
    const answers = [fetchAs(service, 'ada', 'u1', (hint) => hints.push(hint)), fetchAs(service, 'bob'), fetchAs(service, 'cy')];
    await tick();
    expect(calls.map((call) => call.token)).toEqual(['ada']);
    calls[0]!.release({ data: { _entities: [{ displayName: 'Ada' }] }, hint: PUBLIC });
    const [first, second, third] = await Promise.all(answers);
    expect([first, second, third].map((answer) => answer!.data)).toEqual([1, 2, 3].map(() => ({ _entities: [{ displayName: 'Ada' }] })));
    // The executor merges into what it receives: no two fetches get the same object.
    expect(first!.data).not.toBe(second!.data);
    expect(second!.data).not.toBe(third!.data);
    expect(shared).toEqual(['user', 'user']);
    // The fetch that asked still narrows its own operation's cache policy with the subgraph's hint.
    expect(hints).toEqual([PUBLIC]);
  });

  it('does not share a private answer: each waiting scope asks with its own token, and later fetches stop waiting', async () => {
    const { source, calls } = fakeSubgraph();
    const service = createSharedFetches().wrap({ user: source })['user']!;
    const ada = fetchAs(service, 'ada');
    const bob = fetchAs(service, 'bob');
    await tick();
    calls[0]!.release({ data: { _entities: [{ displayName: 'Ada', email: 'ada@example.com' }] }, hint: PRIVATE });
    await tick();
    expect(calls.map((call) => call.token)).toEqual(['ada', 'bob']);
    calls[1]!.release({ data: { _entities: [{ displayName: 'Ada', email: null }] }, hint: PRIVATE });
    expect((await ada).data).toEqual({ _entities: [{ displayName: 'Ada', email: 'ada@example.com' }] });
    expect((await bob).data).toEqual({ _entities: [{ displayName: 'Ada', email: null }] });

    // The query's answers are private: the next event's fetches go out at once, side by side.
    const next = [fetchAs(service, 'ada'), fetchAs(service, 'bob')];
    await tick();
    expect(calls.map((call) => call.token)).toEqual(['ada', 'bob', 'ada', 'bob']);
    calls[2]!.release({ data: { _entities: [{ displayName: 'Ada' }] }, hint: PUBLIC });
    calls[3]!.release({ data: { _entities: [{ displayName: 'Ada' }] }, hint: PUBLIC });
    await Promise.all(next);

    // Public again: fetches are shared again.
    const again = [fetchAs(service, 'ada'), fetchAs(service, 'bob')];
    await tick();
    expect(calls).toHaveLength(5);
    calls[4]!.release({ data: { _entities: [{ displayName: 'Ada' }] }, hint: PUBLIC });
    expect((await Promise.all(again)).map((answer) => answer.data)).toEqual([{ _entities: [{ displayName: 'Ada' }] }, { _entities: [{ displayName: 'Ada' }] }]);
  });

  it('shares nothing without a public hint with a max-age, nor an answer with errors', async () => {
    for (const answer of [
      { data: { _entities: [{ displayName: 'Ada' }] } },
      { data: { _entities: [{ displayName: 'Ada' }] }, hint: { maxAge: 0, scope: 'PUBLIC' as const } },
      { data: { _entities: [null] }, errors: [{ message: 'boom' }], hint: PUBLIC },
    ]) {
      const { source, calls } = fakeSubgraph();
      const service = createSharedFetches().wrap({ user: source })['user']!;
      const both = [fetchAs(service, 'ada'), fetchAs(service, 'bob')];
      await tick();
      calls[0]!.release(answer);
      await tick();
      expect(calls.map((call) => call.token)).toEqual(['ada', 'bob']);
      calls[1]!.release(answer);
      await Promise.all(both);
    }
  });

  it('does not make different representations wait for each other', async () => {
    const { source, calls } = fakeSubgraph();
    const service = createSharedFetches().wrap({ user: source })['user']!;
    const both = [fetchAs(service, 'ada', 'u1'), fetchAs(service, 'bob', 'u2')];
    await tick();
    expect(calls.map((call) => call.token)).toEqual(['ada', 'bob']);
    for (const call of calls) call.release({ data: { _entities: [{ displayName: 'x' }] }, hint: PUBLIC });
    await Promise.all(both);
  });
});
