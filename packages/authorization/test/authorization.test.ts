import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { graphql, parse, subscribe, type ExecutionResult } from 'graphql';
import type { Viewer } from '@meridian/tokens';
import { AUTHORIZATION_DIRECTIVES_SDL, authorizeResolvers, readRequirements, scopesForRoles, type Policy } from '../src';

const SDL = `
extend schema
  @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@composeDirective"])
  @link(url: "https://specs.meridian.dev/authorization/v1.0", import: ["@authenticated", "@requiresScopes", "@policy"])
  @composeDirective(name: "@authenticated")
  @composeDirective(name: "@requiresScopes")
  @composeDirective(name: "@policy")
${AUTHORIZATION_DIRECTIVES_SDL}
type Note @key(fields: "id") @requiresScopes(scopes: [["tasks:read"]]) {
  id: ID!
  text: String!
  secret: String @policy(policies: [["owner"]])
}
type Query {
  open: String
  signedIn: String @authenticated
  note(id: ID!): Note @requiresScopes(scopes: [["tasks:read"]])
  adminOrWriter: String @requiresScopes(scopes: [["users:admin"], ["tasks:write", "users:read"]])
}
type Mutation {
  editNote(id: ID!): Note @requiresScopes(scopes: [["tasks:write"]]) @policy(policies: [["owner"], ["admin"]])
}
type Subscription {
  noteChanged: Note @authenticated
}
`;

interface Ctx { viewer: Viewer }
const notes: Record<string, { id: string; text: string; secret: string; ownerId: string }> = {
  n1: { id: 'n1', text: 'hello', secret: 's1', ownerId: 'alice' },
};
const policies: Record<string, Policy<Ctx>> = {
  owner: ({ viewer, parent, args }) => notes[String((parent as { id?: string } | undefined)?.id ?? args.id)]?.ownerId === viewer.userId,
  admin: async ({ viewer }) => viewer.scopes.includes('users:admin'),
};
const typeDefs = parse(SDL);
const resolvers = {
  Query: { open: () => 'open', signedIn: () => 'yes', note: (_: unknown, { id }: { id: string }) => notes[id], adminOrWriter: () => 'ok' },
  Note: { __resolveReference: (ref: { id: string }) => notes[ref.id] },
  Mutation: { editNote: (_: unknown, { id }: { id: string }) => notes[id] },
  Subscription: {
    noteChanged: {
      subscribe: async function* () {
        yield { noteChanged: notes.n1 };
      },
    },
  },
};
const schema = buildSubgraphSchema({ typeDefs, resolvers: authorizeResolvers<Ctx>({ typeDefs, resolvers, policies }) as GraphQLResolverMap<unknown> });

const user = (userId: string, roles: Array<'ADMIN' | 'MEMBER' | 'VIEWER'>): Viewer => ({
  kind: 'user', userId, roles, scopes: scopesForRoles(roles), tokenId: 't', expiresAt: 0,
});
const anonymous: Viewer = { kind: 'anonymous' };
const run = (source: string, viewer: Viewer) => graphql({ schema, source, contextValue: { viewer } });
const codes = (result: ExecutionResult) => (result.errors ?? []).map((error) => error.extensions?.code);

describe('authorizeResolvers', () => {
  it('leaves fields without directives open', async () => {
    expect((await run('{ open }', anonymous)).data).toEqual({ open: 'open' });
  });

  it('@authenticated: UNAUTHENTICATED for anonymous callers, naming the field', async () => {
    const result = await run('{ signedIn }', anonymous);
    expect(codes(result)).toEqual(['UNAUTHENTICATED']);
    expect(result.errors?.[0]?.message).toContain('Query.signedIn');
    expect((await run('{ signedIn }', user('bob', ['VIEWER']))).data).toEqual({ signedIn: 'yes' });
  });

  it('@requiresScopes: alternatives of scope sets; FORBIDDEN when none is held', async () => {
    expect(codes(await run('{ adminOrWriter }', user('v', ['VIEWER'])))).toEqual(['FORBIDDEN']);
    expect((await run('{ adminOrWriter }', user('m', ['MEMBER']))).data).toEqual({ adminOrWriter: 'ok' });
    expect((await run('{ adminOrWriter }', user('a', ['ADMIN']))).data).toEqual({ adminOrWriter: 'ok' });
    expect(codes(await run('{ adminOrWriter }', anonymous))).toEqual(['UNAUTHENTICATED']);
  });

  it('a directive on a type applies to each field of the type and to entity references', async () => {
    const noScope: Viewer = { ...(user('x', []) as Extract<Viewer, { kind: 'user' }>), scopes: [] };
    const direct = await graphql({ schema, source: '{ note(id: "n1") { id } }', contextValue: { viewer: noScope } });
    expect(codes(direct)).toEqual(['FORBIDDEN']);
    const entities = '{ _entities(representations: [{ __typename: "Note", id: "n1" }]) { ... on Note { text } } }';
    expect(codes(await run(entities, anonymous))).toEqual(['UNAUTHENTICATED']);
    expect((await run(entities, user('bob', ['VIEWER']))).data).toEqual({ _entities: [{ text: 'hello' }] });
  });

  it('@policy on a field: the rule sees the parent; denial is FORBIDDEN on that field only', async () => {
    const bob = await run('{ note(id: "n1") { text secret } }', user('bob', ['MEMBER']));
    expect(bob.data).toEqual({ note: { text: 'hello', secret: null } });
    expect(codes(bob)).toEqual(['FORBIDDEN']);
    const alice = await run('{ note(id: "n1") { text secret } }', user('alice', ['MEMBER']));
    expect(alice).toEqual({ data: { note: { text: 'hello', secret: 's1' } } });
  });

  it('scopes and policies together; policy alternatives (owner or admin)', async () => {
    const edit = 'mutation { editNote(id: "n1") { id } }';
    expect(codes(await run(edit, user('bob', ['MEMBER'])))).toEqual(['FORBIDDEN']);
    expect(codes(await run(edit, user('alice', ['VIEWER'])))).toEqual(['FORBIDDEN']);
    expect((await run(edit, user('alice', ['MEMBER']))).data).toEqual({ editNote: { id: 'n1' } });
    expect((await run(edit, user('root', ['ADMIN']))).data).toEqual({ editNote: { id: 'n1' } });
  });

  it('checks a subscription when it starts, with the subscriber as viewer', async () => {
    const document = parse('subscription { noteChanged { id } }');
    const refused = (await subscribe({ schema, document, contextValue: { viewer: anonymous } })) as ExecutionResult;
    expect(codes(refused)).toEqual(['UNAUTHENTICATED']);
    const stream = (await subscribe({ schema, document, contextValue: { viewer: user('bob', ['VIEWER']) } })) as AsyncIterableIterator<ExecutionResult>;
    expect((await stream.next()).value).toEqual({ data: { noteChanged: { id: 'n1' } } });
  });

  it('fails at start-up on an unknown policy or scope, naming the field', () => {
    const bad = parse(`${AUTHORIZATION_DIRECTIVES_SDL} type Query { a: String @policy(policies: [["nope"]]) b: String }`);
    expect(() => authorizeResolvers({ typeDefs: bad, resolvers: {} })).toThrow('@policy on Query.a: no policy named "nope"');
    const badScope = parse(`${AUTHORIZATION_DIRECTIVES_SDL} type Query { a: String @requiresScopes(scopes: [["tasks:delete"]]) }`);
    expect(() => authorizeResolvers({ typeDefs: badScope, resolvers: {} })).toThrow('unknown scope "tasks:delete"');
    const malformed = parse(`${AUTHORIZATION_DIRECTIVES_SDL} type Query { a: String @requiresScopes(scopes: []) }`);
    expect(() => readRequirements(malformed)).toThrow('@requiresScopes on Query.a: "scopes" must be a non-empty list');
  });

  it('combines a type directive and a field directive (both must hold)', () => {
    const requirements = readRequirements(typeDefs);
    expect(requirements.get('Note.secret')).toEqual({ coordinate: 'Note.secret', authenticated: true, scopes: [['tasks:read']], policies: [['owner']] });
    expect(requirements.has('Query.open')).toBe(false);
  });
});
