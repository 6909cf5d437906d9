/**
 * The user subgraph over real HTTP (port 0) on its own database (PGlite, or PostgreSQL when
 * TEST_POSTGRES_URL is set), with RS256 tokens checked against a local JWKS endpoint whose
 * key this file holds (so it can mint ADMIN tokens), and its event handler on a real bus
 * (in memory, or Redis Streams under its own prefix when TEST_REDIS_URL is set).
 */
import { randomUUID } from 'node:crypto';
import { createDomainEvent, createPlatformEventBus, type DomainEvent } from '@meridian/domain-events';
import { createOutboxRelay, type EventBus, type OutboxRelay, type Subscription } from '@meridian/event-bridge';
import { createLogger, encodeCursor, type SubgraphServer } from '@meridian/service-kit';
import { deleteRedisKeys, eventually, graphql, openTestDatabase, startTestTokenIssuer, type GraphQLResponse, type OpenTestDatabase, type TestTokenIssuer } from '@meridian/testing';
import { createTokenVerifier, type Role } from '@meridian/tokens';
import { PrismaClient } from '../src/generated/prisma/client';
import { createUserSubgraph } from '../src/server';
import { subscribeUserEventHandlers } from '../src/events';
import { loadUserConfig } from '../src/config';

// ULID-shaped ids: sign-up order is id order.
const ADA = '01JUSER0000000000000000ADA';
const BOB = '01JUSER0000000000000000BOB';
const CY = '01JUSER00000000000000000CY';
const DEE = '01JUSER0000000000000000DEE';
const EVE = '01JUSER0000000000000000EVE';
const ADMIN = '01JUSER000000000000000ADMN';
const NOBODY = '01JUSER000000000000000NONE';

let testDb: OpenTestDatabase;
let prisma: PrismaClient<'query'>;
let subgraph: SubgraphServer;
let userUrl: string;
let tokens: TestTokenIssuer;
let bus: EventBus<DomainEvent>;
let relay: OutboxRelay;
let handlers: Subscription;
const redisUrl = process.env.TEST_REDIS_URL || undefined;
const streamPrefix = `test:user-subgraph:${process.pid}:${randomUUID()}`;
/** SQL statements Prisma sent. */
const sqlLog: string[] = [];

function tokenFor(userId: string, roles: Role[] = ['MEMBER']): string {
  return tokens.sign({ userId, roles, scope: 'users:read' });
}

function gql(query: string, variables: Record<string, unknown> = {}, token?: string) {
  return graphql(userUrl, query, { variables, ...(token ? { token } : {}) });
}

async function ok<T = Record<string, any>>(query: string, variables: Record<string, unknown>, token?: string): Promise<T> {
  const result = await gql(query, variables, token);
  expect(result.errors).toBeUndefined();
  return result.data as T;
}

function errorOf(result: GraphQLResponse) {
  expect(result.errors).toHaveLength(1);
  return result.errors![0]!;
}

const USERS = `query($first: Int, $after: String, $search: String) {
  users(first: $first, after: $after, search: $search) { edges { cursor node { id displayName email } } pageInfo { hasNextPage endCursor } totalCount }
}`;
const UPDATE = `mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { id displayName avatarUrl email } }`;
const ENTITIES = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id displayName email roles } } }`;

beforeAll(async () => {
  tokens = await startTestTokenIssuer();
  testDb = await openTestDatabase('user');
  prisma = new PrismaClient({ adapter: testDb.adapter, log: [{ emit: 'event', level: 'query' }] });
  prisma.$on('query', (event) => sqlLog.push(event.query));

  const logger = createLogger('user', 'silent');
  bus = createPlatformEventBus({ redisUrl, streamPrefix, logger });
  relay = createOutboxRelay({ prisma, bus, logger });
  handlers = await subscribeUserEventHandlers({ prisma, bus, afterCommit: () => relay.notify(), logger });

  subgraph = createUserSubgraph({
    prisma,
    verifier: createTokenVerifier({ jwksUrl: tokens.jwksUrl, issuer: tokens.issuer, audience: tokens.audience }),
    logger,
  });
  userUrl = `${(await subgraph.listen(0)).url}/graphql`;

  const people: [string, string, string, Role[]][] = [
    [ADA, 'ada@example.com', 'Ada Lovelace', ['MEMBER']],
    [BOB, 'bob@example.com', 'Bob Builder', ['MEMBER']],
    [CY, 'cy@lovelace.org', 'Cy Twombly', ['MEMBER']],
    [DEE, 'dee@example.com', 'Dee Dee', ['VIEWER']],
    [EVE, 'eve@example.com', 'Eve', ['MEMBER']],
    [ADMIN, 'root@example.com', 'The Admin', ['ADMIN', 'MEMBER']],
  ];
  for (const [id, email, displayName, roles] of people) {
    await prisma.user.create({ data: { id, email, displayName, roles } });
  }
});

afterAll(async () => {
  await subgraph?.close();
  await handlers?.close();
  await relay?.stop();
  await bus?.close();
  await tokens?.close();
  await prisma?.$disconnect();
  await testDb?.close();
  if (redisUrl) await deleteRedisKeys(redisUrl, streamPrefix);
});

describe('me', () => {
  it('is null when anonymous', async () => {
    expect(await ok('{ me { id } }', {})).toEqual({ me: null });
  });

  it('is the signed-in user, with their email, roles and creation date', async () => {
    const { me } = await ok('{ me { id email displayName avatarUrl roles createdAt } }', {}, tokenFor(ADA));
    expect(me).toEqual({
      id: ADA,
      email: 'ada@example.com',
      displayName: 'Ada Lovelace',
      avatarUrl: null,
      roles: ['MEMBER'],
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
  });

  it('is null for a valid token of a user without a profile', async () => {
    expect(await ok('{ me { id } }', {}, tokenFor(NOBODY))).toEqual({ me: null });
  });

  it('rejects an invalid token with HTTP 401 instead of treating it as anonymous', async () => {
    const forged = tokenFor(ADA).replace(/\.[^.]+$/, '.AAAA');
    const result = await gql('{ me { id } }', {}, forged);
    expect(result.status).toBe(401);
    expect(errorOf(result).extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('sign-in required', () => {
  it('answers UNAUTHENTICATED to anonymous user(id), users and updateProfile', async () => {
    expect(errorOf(await gql('query($id: ID!) { user(id: $id) { id } }', { id: ADA })).extensions?.code).toBe('UNAUTHENTICATED');
    expect(errorOf(await gql(USERS, {})).extensions?.code).toBe('UNAUTHENTICATED');
    const before = await prisma.user.findUniqueOrThrow({ where: { id: ADA } });
    expect(errorOf(await gql(UPDATE, { input: { displayName: 'Hacked' } })).extensions?.code).toBe('UNAUTHENTICATED');
    expect(await prisma.user.findUniqueOrThrow({ where: { id: ADA } })).toEqual(before);
  });

  it('finds a user by id, or null', async () => {
    expect(await ok('query($id: ID!) { user(id: $id) { id displayName } }', { id: BOB }, tokenFor(ADA))).toEqual({
      user: { id: BOB, displayName: 'Bob Builder' },
    });
    expect(await ok('query($id: ID!) { user(id: $id) { id } }', { id: NOBODY }, tokenFor(ADA))).toEqual({ user: null });
  });
});

describe('users', () => {
  it('pages through everyone in sign-up order', async () => {
    const token = tokenFor(ADA);
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const { users }: { users: any } = await ok(USERS, { first: 4, after }, token);
      expect(users.totalCount).toBe(6);
      seen.push(...users.edges.map((edge: any) => edge.node.id));
      for (const edge of users.edges) expect(edge.cursor).toBe(encodeCursor(edge.node.id));
      pages++;
      if (!users.pageInfo.hasNextPage) {
        expect(users.pageInfo.endCursor).toBe(users.edges.at(-1)?.cursor ?? null);
        break;
      }
      after = users.pageInfo.endCursor;
    }
    expect(pages).toBe(2);
    expect(seen).toEqual([ADMIN, ADA, BOB, CY, DEE, EVE].sort());
  });

  it('returns an empty page for first: 0', async () => {
    const { users } = await ok(USERS, { first: 0 }, tokenFor(ADA));
    expect(users.edges).toEqual([]);
    expect(users.pageInfo.hasNextPage).toBe(true);
  });

  it('searches display names and emails, case-insensitively', async () => {
    const { users } = await ok(USERS, { search: '  LOVELACE ' }, tokenFor(ADA));
    expect(users.edges.map((edge: any) => edge.node.id)).toEqual([ADA, CY].sort()); // name, and email domain
    expect(users.totalCount).toBe(2);
    // LIKE wildcards are searched for literally.
    for (const search of ['%', '_', 'a%e', '\\']) expect((await ok(USERS, { search }, tokenFor(ADA))).users.totalCount).toBe(0);
    const none = await ok(USERS, { search: 'zzz-nobody' }, tokenFor(ADA));
    expect(none.users).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null }, totalCount: 0 });
  });

  it.each([
    ['first', { first: 101 }],
    ['first', { first: -1 }],
    ['after', { after: 'not-a-cursor' }],
  ])('rejects a bad %s with BAD_USER_INPUT naming it', async (field, variables) => {
    const error = errorOf(await gql(USERS, variables, tokenFor(ADA)));
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });
});

describe('email visibility', () => {
  it('shows the email to the user themselves and to admins only', async () => {
    const query = 'query($id: ID!) { user(id: $id) { email } }';
    expect((await ok(query, { id: BOB }, tokenFor(BOB))).user.email).toBe('bob@example.com');
    expect((await ok(query, { id: BOB }, tokenFor(ADMIN, ['ADMIN']))).user.email).toBe('bob@example.com');
    expect((await ok(query, { id: BOB }, tokenFor(ADA))).user.email).toBeNull();
    expect((await ok(query, { id: BOB }, tokenFor(DEE, ['VIEWER']))).user.email).toBeNull();
  });

  it('applies in lists and entity references too', async () => {
    const { users } = await ok(USERS, {}, tokenFor(ADA));
    const emails = Object.fromEntries(users.edges.map((edge: any) => [edge.node.id, edge.node.email]));
    expect(emails).toEqual({ [ADMIN]: null, [ADA]: 'ada@example.com', [BOB]: null, [CY]: null, [DEE]: null, [EVE]: null });
    const reps = [{ __typename: 'User', id: BOB }];
    expect((await ok(ENTITIES, { reps }, tokenFor(ADA)))._entities[0].email).toBeNull();
    expect((await ok(ENTITIES, { reps }, tokenFor(ADMIN, ['ADMIN'])))._entities[0].email).toBe('bob@example.com');
  });
});

describe('updateProfile', () => {
  it.each([
    ['input.displayName', 'an empty display name', { displayName: '' }],
    ['input.displayName', 'a blank display name', { displayName: '   ' }],
    ['input.displayName', 'an 81-character display name', { displayName: 'x'.repeat(81) }],
    ['input.displayName', 'a null display name', { displayName: null }],
    ['input.avatarUrl', 'an http avatar', { avatarUrl: 'http://cdn.example.com/a.png' }],
    ['input.avatarUrl', 'a javascript: avatar', { avatarUrl: 'javascript:alert(1)' }],
    ['input.avatarUrl', 'a relative avatar', { avatarUrl: '/a.png' }],
    ['input.avatarUrl', 'an over-long avatar', { avatarUrl: `https://cdn.example.com/${'a'.repeat(2048)}` }],
    ['input', 'an empty input', {}],
  ])('rejects %s (%s) with BAD_USER_INPUT naming it, and writes nothing', async (field, _label, input) => {
    const before = await prisma.user.findUniqueOrThrow({ where: { id: EVE } });
    const error = errorOf(await gql(UPDATE, { input }, tokenFor(EVE)));
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(error.message.startsWith(`${field}:`)).toBe(true);
    expect(await prisma.user.findUniqueOrThrow({ where: { id: EVE } })).toEqual(before);
  });

  it('changes the own profile: trims the name, sets and removes the avatar', async () => {
    const token = tokenFor(EVE);
    const { updateProfile } = await ok(UPDATE, { input: { displayName: '  Eve Online  ', avatarUrl: 'https://cdn.example.com/eve.png' } }, token);
    expect(updateProfile).toEqual({ id: EVE, displayName: 'Eve Online', avatarUrl: 'https://cdn.example.com/eve.png', email: 'eve@example.com' });
    expect(await ok('{ me { displayName avatarUrl } }', {}, token)).toEqual({
      me: { displayName: 'Eve Online', avatarUrl: 'https://cdn.example.com/eve.png' },
    });
    expect((await ok(UPDATE, { input: { avatarUrl: null } }, token)).updateProfile.avatarUrl).toBeNull();
    const stored = await prisma.user.findUniqueOrThrow({ where: { id: EVE } });
    expect(stored).toMatchObject({ displayName: 'Eve Online', avatarUrl: null });
  });

  it('answers NOT_FOUND for a signed-in user without a profile, and creates none', async () => {
    const error = errorOf(await gql(UPDATE, { input: { displayName: 'Ghost' } }, tokenFor(NOBODY)));
    expect(error.extensions?.code).toBe('NOT_FOUND');
    expect(await prisma.user.findUnique({ where: { id: NOBODY } })).toBeNull();
  });
});

describe('_entities', () => {
  it('resolves N User references with ONE SQL query, in order, with null for unknown ids', async () => {
    const ids = [EVE, ADA, NOBODY, CY, BOB, DEE, ADA];
    const before = sqlLog.length;
    const { _entities } = await ok(ENTITIES, { reps: ids.map((id) => ({ __typename: 'User', id })) }, tokenFor(ADA));
    const userQueries = sqlLog.slice(before).filter((sql) => /"users"/.test(sql));
    expect(userQueries).toHaveLength(1);
    expect(userQueries[0]).toMatch(/\bIN\b/i);
    expect(_entities.map((entity: { id: string } | null) => entity?.id ?? null)).toEqual([EVE, ADA, null, CY, BOB, DEE, ADA]);
    expect(_entities[1]).toEqual({ id: ADA, displayName: 'Ada Lovelace', email: 'ada@example.com', roles: ['MEMBER'] });
  });
});

describe('auth.user-registered', () => {
  it('creates the profile once and announces it once, however often the event arrives', async () => {
    const userId = '01JUSER000000000000000NEW1';
    const announced: string[] = [];
    const listener = await bus.listen({
      types: ['user.profile-created'],
      handler: (event) => {
        if (event.payload.userId === userId) announced.push(event.id);
      },
    });
    try {
      const registered = createDomainEvent('auth.user-registered', {
        payload: { userId, email: 'new1@example.com', displayName: 'Newcomer' },
      });
      // At-least-once delivery: the same event twice, then another registration of the same user.
      // One aggregate = one partition, handled in order: once the last one is recorded, all were handled.
      await bus.publish(registered);
      await bus.publish(registered);
      const again = createDomainEvent('auth.user-registered', {
        payload: { userId, email: 'new1@example.com', displayName: 'Newcomer Again' },
      });
      await bus.publish(again);
      await eventually(async () => {
        expect(await prisma.inboxEvent.count({ where: { eventId: again.id } })).toBe(1);
      });

      expect(await prisma.user.findMany({ where: { id: userId } })).toEqual([
        expect.objectContaining({ id: userId, email: 'new1@example.com', displayName: 'Newcomer', roles: ['MEMBER'] }),
      ]);
      expect(await prisma.inboxEvent.count({ where: { eventId: { in: [registered.id, again.id] } } })).toBe(2);
      const outbox = await prisma.outboxEvent.findMany({ where: { type: 'user.profile-created', aggregateId: userId } });
      expect(outbox).toHaveLength(1);
      await eventually(async () => expect(announced).toEqual([outbox[0]!.id]));

      // The new user can now see themselves.
      expect((await ok('{ me { id displayName } }', {}, tokenFor(userId))).me).toEqual({ id: userId, displayName: 'Newcomer' });
    } finally {
      await listener.close();
    }
  });
});

describe('auth.roles-changed', () => {
  const rolesChanged = (userId: string, roles: Role[], previousRoles: Role[], actorId: string | null = ADMIN) =>
    createDomainEvent('auth.roles-changed', { payload: { userId, roles, previousRoles, actorId } });
  const handled = (eventId: string) =>
    eventually(async () => expect(await prisma.inboxEvent.count({ where: { group: 'user', eventId } })).toBe(1));
  const rolesSeenBy = async (userId: string) => (await ok('{ me { roles } }', {}, tokenFor(userId))).me?.roles;

  it('sets the profile roles: User.roles shows them, in entity references too', async () => {
    expect(await rolesSeenBy(BOB)).toEqual(['MEMBER']);
    const event = rolesChanged(BOB, ['ADMIN', 'MEMBER'], ['MEMBER']);
    await bus.publish(event);
    await handled(event.id);
    expect(await rolesSeenBy(BOB)).toEqual(['ADMIN', 'MEMBER']);
    const { _entities } = await ok(ENTITIES, { reps: [{ __typename: 'User', id: BOB }] }, tokenFor(ADA));
    expect(_entities[0].roles).toEqual(['ADMIN', 'MEMBER']);
  });

  it('applies a redelivered event once: a duplicate after a newer change does not roll the roles back', async () => {
    const promote = rolesChanged(CY, ['ADMIN'], ['MEMBER']);
    const demote = rolesChanged(CY, ['VIEWER'], ['ADMIN']);
    // At-least-once delivery: the first event again after the second (one partition, in order).
    await bus.publish([promote, demote]);
    await bus.publish(promote);
    const marker = rolesChanged(CY, ['VIEWER'], ['VIEWER']);
    await bus.publish(marker);
    await handled(marker.id);
    expect(await rolesSeenBy(CY)).toEqual(['VIEWER']);
    expect(await prisma.inboxEvent.count({ where: { group: 'user', eventId: { in: [promote.id, demote.id] } } })).toBe(2);
  });

  it('keeps roles that arrive before the profile and gives them to the profile when it is created', async () => {
    const userId = '01JUSER000000000000000EARL';
    const early = rolesChanged(userId, ['ADMIN'], ['MEMBER'], null);
    await bus.publish(early);
    await handled(early.id);
    expect(await prisma.user.findUnique({ where: { id: userId } })).toBeNull();
    expect(await prisma.pendingRoles.findUnique({ where: { userId } })).toMatchObject({ roles: ['ADMIN'], eventId: early.id });

    const registered = createDomainEvent('auth.user-registered', { payload: { userId, email: 'early@example.com', displayName: 'Early Bird' } });
    await bus.publish(registered);
    await handled(registered.id);
    expect(await rolesSeenBy(userId)).toEqual(['ADMIN']);
    expect(await prisma.pendingRoles.count({ where: { userId } })).toBe(0);
    expect(await prisma.outboxEvent.count({ where: { type: 'user.profile-created', aggregateId: userId } })).toBe(1);

    // Later changes go straight to the profile.
    const later = rolesChanged(userId, ['MEMBER'], ['ADMIN']);
    await bus.publish(later);
    await handled(later.id);
    expect(await rolesSeenBy(userId)).toEqual(['MEMBER']);
    expect(await prisma.pendingRoles.count({ where: { userId } })).toBe(0);
  });

  it('gives a bootstrap admin ADMIN when both events come in the sign-up order', async () => {
    const userId = '01JUSER000000000000000BOOT';
    const registered = createDomainEvent('auth.user-registered', { payload: { userId, email: 'boot@example.com', displayName: 'Boot' } });
    const promoted = rolesChanged(userId, ['ADMIN'], ['MEMBER'], null);
    await bus.publish([registered, promoted]);
    await handled(promoted.id);
    expect(await rolesSeenBy(userId)).toEqual(['ADMIN']);
    expect(await prisma.pendingRoles.count({ where: { userId } })).toBe(0);
  });
});

describe('configuration', () => {
  it('names every bad variable', () => {
    expect(() => loadUserConfig({ USER_PORT: '99999', JWKS_URL: 'not a url', LOG_LEVEL: 'chatty' })).toThrow(
      /USER_PORT: [\s\S]*JWKS_URL: [\s\S]*LOG_LEVEL: |USER_PORT/,
    );
    let message = '';
    try {
      loadUserConfig({ USER_PORT: '99999', JWKS_URL: 'not a url', LOG_LEVEL: 'chatty' });
    } catch (error) {
      message = (error as Error).message;
    }
    for (const variable of ['USER_PORT', 'JWKS_URL', 'LOG_LEVEL']) expect(message).toContain(`  ${variable}: `);
  });
});
