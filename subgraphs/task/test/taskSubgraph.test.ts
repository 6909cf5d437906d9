/**
 * Boots the task subgraph over real HTTP (port 0) on its own database (PGlite, or PostgreSQL
 * when TEST_POSTGRES_URL is set), with RS256 tokens checked against a real JWKS endpoint.
 */
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import http from 'node:http';
import jwt from 'jsonwebtoken';
import { createTestDatabase, openDatabase, type Database, type TestDatabase } from '@meridian/database';
import { createPlatformEventBus, type DomainEvent } from '@meridian/domain-events';
import { createOutboxRelay } from '@meridian/event-bridge';
import { createLogger, listen, type RunningServer, type SubgraphServer } from '@meridian/service-kit';
import { createTokenVerifier, type Role } from '@meridian/tokens';
import { PrismaClient } from '../src/generated/prisma/client';
import { createTaskSubgraph } from '../src/server';

const ISSUER = 'meridian-auth';
const AUDIENCE = 'meridian';
const KID = 'test-key-1';

interface GraphQLResponse<T = Record<string, any>> {
  data?: T | null;
  errors?: { message: string; path?: string[]; extensions?: { code?: string; field?: string } }[];
}

let testDb: TestDatabase;
let database: Database;
let prisma: PrismaClient<'query'>;
let subgraph: SubgraphServer;
let taskServer: RunningServer;
let jwksServer: RunningServer;
let privateKey: KeyObject;
/** SQL statements Prisma sent, for the "one query" assertions. */
const sqlLog: string[] = [];
/** How often the subgraph said "a change committed" (the service wakes the outbox relay with it). */
let commits = 0;

// Users of the workspace; ids are ULID-shaped like real ones.
const ALICE = '01JALICE000000000000000000';
const BOB = '01JBOB00000000000000000000';
const CAROL = '01JCAROL000000000000000000';
const ADMIN = '01JADMIN000000000000000000';
const VIEWER = '01JVIEWER00000000000000000';

function tokenFor(userId: string, roles: Role[] = ['MEMBER']): string {
  return jwt.sign({ roles, scope: 'openid' }, privateKey, {
    algorithm: 'RS256',
    keyid: KID,
    issuer: ISSUER,
    audience: AUDIENCE,
    subject: userId,
    jwtid: randomUUID(),
    expiresIn: '15m',
  });
}

async function gql<T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, token?: string): Promise<GraphQLResponse<T>> {
  const response = await fetch(`${taskServer.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GraphQLResponse<T>;
}

/** Data of a response that must have succeeded. */
async function ok<T = Record<string, any>>(query: string, variables: Record<string, unknown>, token: string): Promise<T> {
  const result = await gql<T>(query, variables, token);
  expect(result.errors).toBeUndefined();
  return result.data as T;
}

function errorOf(result: GraphQLResponse) {
  expect(result.errors).toHaveLength(1);
  return result.errors![0]!;
}

async function counts() {
  return { tasks: await prisma.task.count(), projects: await prisma.project.count(), outbox: await prisma.outboxEvent.count() };
}

const TASK_FIELDS = `id title description status priority dueAt assignee { id } createdBy { id } project { id name } createdAt updatedAt`;
const CREATE_TASK = `mutation($input: CreateTaskInput!) { createTask(input: $input) { ${TASK_FIELDS} } }`;
const UPDATE_TASK = `mutation($id: ID!, $input: UpdateTaskInput!) { updateTask(id: $id, input: $input) { ${TASK_FIELDS} } }`;
const ASSIGN_TASK = `mutation($id: ID!, $assigneeId: ID) { assignTask(id: $id, assigneeId: $assigneeId) { id assignee { id } } }`;
const DELETE_TASK = `mutation($id: ID!) { deleteTask(id: $id) }`;
const CREATE_PROJECT = `mutation($input: CreateProjectInput!) { createProject(input: $input) { id name description owner { id } createdAt } }`;

async function createTask(input: Record<string, unknown>, token = tokenFor(ALICE)) {
  return (await ok<{ createTask: any }>(CREATE_TASK, { input }, token)).createTask;
}

beforeAll(async () => {
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  privateKey = keys.privateKey;
  const jwk = { ...keys.publicKey.export({ format: 'jwk' }), kid: KID, alg: 'RS256', use: 'sig' };
  jwksServer = await listen(
    http.createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    }),
    0,
  );

  testDb = await createTestDatabase('task');
  database = await openDatabase({
    service: 'task',
    ...(testDb.databaseUrl !== undefined ? { databaseUrl: testDb.databaseUrl } : {}),
    ...(testDb.dataDir !== undefined ? { dataDir: testDb.dataDir } : {}),
  });
  await database.migrate();
  prisma = new PrismaClient({ adapter: database.adapter, log: [{ emit: 'event', level: 'query' }] });
  prisma.$on('query', (event) => sqlLog.push(event.query));

  subgraph = createTaskSubgraph({
    prisma,
    verifier: createTokenVerifier({ jwksUrl: `${jwksServer.url}/jwks.json`, issuer: ISSUER, audience: AUDIENCE }),
    logger: createLogger('task', 'silent'),
    afterCommit: () => {
      commits++;
    },
  });
  taskServer = await subgraph.listen(0);
});

afterAll(async () => {
  await subgraph?.close();
  await jwksServer?.close();
  await prisma?.$disconnect();
  await database?.close();
  await testDb?.drop();
});

describe('signed-in users only', () => {
  it('answers UNAUTHENTICATED to anonymous reads and writes, and writes nothing', async () => {
    const before = await counts();
    expect(errorOf(await gql('{ tasks { edges { node { id } } } }')).extensions?.code).toBe('UNAUTHENTICATED');
    expect(errorOf(await gql('query($id: ID!) { task(id: $id) { id } }', { id: 'x' })).extensions?.code).toBe('UNAUTHENTICATED');
    expect(errorOf(await gql('{ projects { edges { node { id } } } }')).extensions?.code).toBe('UNAUTHENTICATED');
    expect(errorOf(await gql(CREATE_TASK, { input: { title: 'Sneaky' } })).extensions?.code).toBe('UNAUTHENTICATED');
    expect(await counts()).toEqual(before);
  });

  it('answers UNAUTHENTICATED to a token signed by another key', async () => {
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const forged = jwt.sign({ roles: ['ADMIN'] }, stranger, {
      algorithm: 'RS256',
      keyid: KID,
      issuer: ISSUER,
      audience: AUDIENCE,
      subject: ALICE,
      jwtid: randomUUID(),
      expiresIn: '15m',
    });
    expect(errorOf(await gql('{ tasks { edges { node { id } } } }', {}, forged)).extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('creating', () => {
  it('creates a project and a task in it, with an outbox event per change', async () => {
    const { createProject: project } = await ok<{ createProject: any }>(
      CREATE_PROJECT,
      { input: { name: '  Launch  ', description: 'Everything for launch day' } },
      tokenFor(ALICE),
    );
    expect(project).toMatchObject({ name: 'Launch', description: 'Everything for launch day', owner: { id: ALICE } });
    expect(project.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);

    const outboxBefore = await prisma.outboxEvent.count();
    const task = await createTask({
      title: '  Book the venue ',
      description: 'Two rooms',
      priority: 'HIGH',
      dueAt: '2026-12-24T18:00:00Z',
      projectId: project.id,
      assigneeId: BOB,
    });
    expect(task).toMatchObject({
      title: 'Book the venue',
      description: 'Two rooms',
      status: 'TODO',
      priority: 'HIGH',
      dueAt: '2026-12-24T18:00:00.000Z',
      assignee: { id: BOB },
      createdBy: { id: ALICE },
      project: { id: project.id, name: 'Launch' },
    });

    const events = await prisma.outboxEvent.findMany({ where: { aggregateId: task.id }, orderBy: { id: 'asc' } });
    expect(await prisma.outboxEvent.count()).toBe(outboxBefore + 2);
    expect(events.map((event) => event.type)).toEqual(['task.created', 'task.assigned']);
    expect(events[0]).toMatchObject({
      source: 'task',
      version: 1,
      publishedAt: null,
      payload: expect.objectContaining({ taskId: task.id, title: 'Book the venue', status: 'TODO', assigneeId: BOB, actorId: ALICE }),
    });
    expect(events[1]?.payload).toMatchObject({ assigneeId: BOB, previousAssigneeId: null });
  });

  it('defaults priority to MEDIUM and leaves optional fields empty', async () => {
    const task = await createTask({ title: 'Minimal' });
    expect(task).toMatchObject({ priority: 'MEDIUM', status: 'TODO', description: null, dueAt: null, assignee: null, project: null });
    const events = await prisma.outboxEvent.findMany({ where: { aggregateId: task.id } });
    expect(events.map((event) => event.type)).toEqual(['task.created']);
  });

  it.each([
    ['a blank title', { title: '   ' }, 'input.title'],
    ['a 201-character title', { title: 'x'.repeat(201) }, 'input.title'],
    ['a too long description', { title: 'ok', description: 'x'.repeat(10_001) }, 'input.description'],
    ['an unknown project', { title: 'ok', projectId: '01JNOPROJECT00000000000000' }, 'input.projectId'],
    ['a malformed assignee', { title: 'ok', assigneeId: 'not an id!' }, 'input.assigneeId'],
  ])('rejects %s with BAD_USER_INPUT naming the field and writes nothing', async (_case, input, field) => {
    const before = await counts();
    const error = errorOf(await gql(CREATE_TASK, { input }, tokenFor(ALICE)));
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(error.message).toContain(field);
    expect(await counts()).toEqual(before);
  });

  it('rejects an invalid dueAt with BAD_USER_INPUT naming input.dueAt and writes nothing', async () => {
    const before = await counts();
    const error = errorOf(await gql(CREATE_TASK, { input: { title: 'ok', dueAt: 'next tuesday' } }, tokenFor(ALICE)));
    expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    expect(error.message).toContain('dueAt');
    expect(await counts()).toEqual(before);
  });

  it('signals each committed change, and only committed ones', async () => {
    const before = commits;
    await createTask({ title: 'Counted' });
    expect(commits).toBe(before + 1);
    await gql(CREATE_TASK, { input: { title: 'ok', projectId: '01JNOPROJECT00000000000000' } }, tokenFor(ALICE));
    expect(commits).toBe(before + 1);
  });

  it('forbids VIEWERs from creating tasks and projects', async () => {
    const before = await counts();
    expect(errorOf(await gql(CREATE_TASK, { input: { title: 'Nope' } }, tokenFor(VIEWER, ['VIEWER']))).extensions?.code).toBe('FORBIDDEN');
    expect(errorOf(await gql(CREATE_PROJECT, { input: { name: 'Nope' } }, tokenFor(VIEWER, ['VIEWER']))).extensions?.code).toBe('FORBIDDEN');
    expect(await counts()).toEqual(before);
  });
});

describe('changing', () => {
  it('lets the creator update a task and records task.updated with the changed fields', async () => {
    const task = await createTask({ title: 'Draft the agenda' });
    const { updateTask } = await ok<{ updateTask: any }>(
      UPDATE_TASK,
      { id: task.id, input: { title: 'Draft the agenda', status: 'IN_PROGRESS', dueAt: '2026-12-01T09:00:00.000Z' } },
      tokenFor(ALICE),
    );
    expect(updateTask).toMatchObject({ status: 'IN_PROGRESS', dueAt: '2026-12-01T09:00:00.000Z' });
    expect(new Date(updateTask.updatedAt).getTime()).toBeGreaterThanOrEqual(new Date(task.updatedAt).getTime());

    const events = await prisma.outboxEvent.findMany({ where: { aggregateId: task.id, type: 'task.updated' } });
    expect(events).toHaveLength(1);
    // The unchanged title is not listed.
    expect(events[0]?.payload).toMatchObject({ changedFields: ['status', 'dueAt'], previousStatus: 'TODO', newStatus: 'IN_PROGRESS', actorId: ALICE });
  });

  it('writes nothing and publishes nothing for an update that changes nothing', async () => {
    const task = await createTask({ title: 'Same' });
    const before = await counts();
    const { updateTask } = await ok<{ updateTask: any }>(UPDATE_TASK, { id: task.id, input: { title: ' Same ' } }, tokenFor(ALICE));
    expect(updateTask.updatedAt).toBe(task.updatedAt);
    expect(await counts()).toEqual(before);
  });

  it('forbids other members and VIEWERs, and writes nothing', async () => {
    const task = await createTask({ title: 'Alice only' });
    const before = await counts();
    for (const token of [tokenFor(CAROL), tokenFor(ALICE, ['VIEWER'])]) {
      expect(errorOf(await gql(UPDATE_TASK, { id: task.id, input: { status: 'DONE' } }, token)).extensions?.code).toBe('FORBIDDEN');
      expect(errorOf(await gql(ASSIGN_TASK, { id: task.id, assigneeId: CAROL }, token)).extensions?.code).toBe('FORBIDDEN');
      expect(errorOf(await gql(DELETE_TASK, { id: task.id }, token)).extensions?.code).toBe('FORBIDDEN');
    }
    expect(await counts()).toEqual(before);
    expect(await prisma.task.findUnique({ where: { id: task.id } })).toMatchObject({ status: 'TODO', assigneeId: null });
  });

  it('lets ADMINs change any task', async () => {
    const task = await createTask({ title: 'Anyone' });
    const { updateTask } = await ok<{ updateTask: any }>(UPDATE_TASK, { id: task.id, input: { priority: 'URGENT' } }, tokenFor(ADMIN, ['ADMIN']));
    expect(updateTask.priority).toBe('URGENT');
  });

  it('rejects bad updates with BAD_USER_INPUT naming the field and writes nothing', async () => {
    const task = await createTask({ title: 'Valid' });
    const before = await counts();
    const blank = errorOf(await gql(UPDATE_TASK, { id: task.id, input: { title: '' } }, tokenFor(ALICE)));
    expect(blank.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.title' });
    const empty = errorOf(await gql(UPDATE_TASK, { id: task.id, input: {} }, tokenFor(ALICE)));
    expect(empty.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input' });
    const nullStatus = errorOf(await gql(UPDATE_TASK, { id: task.id, input: { status: null } }, tokenFor(ALICE)));
    expect(nullStatus.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.status' });
    expect(await counts()).toEqual(before);
  });

  it('answers NOT_FOUND for an unknown task id', async () => {
    const unknown = '01JUNKNOWN0000000000000000';
    expect(errorOf(await gql(UPDATE_TASK, { id: unknown, input: { status: 'DONE' } }, tokenFor(ALICE))).extensions?.code).toBe('NOT_FOUND');
    expect(errorOf(await gql(ASSIGN_TASK, { id: unknown, assigneeId: BOB }, tokenFor(ALICE))).extensions?.code).toBe('NOT_FOUND');
    expect(errorOf(await gql(DELETE_TASK, { id: unknown }, tokenFor(ALICE))).extensions?.code).toBe('NOT_FOUND');
    expect((await ok<{ task: unknown }>('query($id: ID!) { task(id: $id) { id } }', { id: unknown }, tokenFor(ALICE))).task).toBeNull();
  });
});

describe('assigning and deleting', () => {
  it('hands a task over: the new assignee may change it, unassigning publishes task.assigned', async () => {
    const task = await createTask({ title: 'Pass it on' });
    const assigned = await ok<{ assignTask: any }>(ASSIGN_TASK, { id: task.id, assigneeId: BOB }, tokenFor(ALICE));
    expect(assigned.assignTask.assignee).toEqual({ id: BOB });

    // Bob was not the creator; being the assignee is enough.
    const updated = await ok<{ updateTask: any }>(UPDATE_TASK, { id: task.id, input: { status: 'DONE' } }, tokenFor(BOB));
    expect(updated.updateTask.status).toBe('DONE');

    const unassigned = await ok<{ assignTask: any }>(ASSIGN_TASK, { id: task.id, assigneeId: null }, tokenFor(BOB));
    expect(unassigned.assignTask.assignee).toBeNull();
    // Bob let go of it: now he is a stranger to the task.
    expect(errorOf(await gql(UPDATE_TASK, { id: task.id, input: { status: 'TODO' } }, tokenFor(BOB))).extensions?.code).toBe('FORBIDDEN');

    const events = await prisma.outboxEvent.findMany({ where: { aggregateId: task.id }, orderBy: { id: 'asc' } });
    expect(events.map((event) => event.type)).toEqual(['task.created', 'task.assigned', 'task.updated', 'task.assigned']);
    expect(events[3]?.payload).toMatchObject({ assigneeId: null, previousAssigneeId: BOB, actorId: BOB });
  });

  it('deletes a task, returns its id and records task.deleted', async () => {
    const task = await createTask({ title: 'Throwaway' });
    const { deleteTask } = await ok<{ deleteTask: string }>(DELETE_TASK, { id: task.id }, tokenFor(ALICE));
    expect(deleteTask).toBe(task.id);
    expect((await ok<{ task: unknown }>('query($id: ID!) { task(id: $id) { id } }', { id: task.id }, tokenFor(CAROL))).task).toBeNull();
    const events = await prisma.outboxEvent.findMany({ where: { aggregateId: task.id }, orderBy: { id: 'asc' } });
    expect(events.map((event) => event.type)).toEqual(['task.created', 'task.deleted']);
    expect(events[1]?.payload).toMatchObject({ taskId: task.id, title: 'Throwaway', actorId: ALICE });
  });
});

describe('reading', () => {
  let projectId: string;
  let ids: string[];

  beforeAll(async () => {
    const { createProject } = await ok<{ createProject: { id: string } }>(CREATE_PROJECT, { input: { name: 'Paging' } }, tokenFor(CAROL));
    projectId = createProject.id;
    ids = [];
    for (let index = 0; index < 5; index++) {
      const task = await createTask(
        { title: `Page task ${index}${index % 2 === 0 ? ' (even)' : ''}`, projectId, assigneeId: CAROL },
        tokenFor(CAROL),
      );
      ids.push(task.id);
    }
  });

  const PROJECT_TASKS = `query($id: ID!, $first: Int, $after: String) {
    project(id: $id) { tasks(first: $first, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }
  }`;

  it('pages through a project in creation order', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const data: any = await ok(PROJECT_TASKS, { id: projectId, first: 2, after }, tokenFor(ALICE));
      const connection = data.project.tasks;
      seen.push(...connection.edges.map((edge: any) => edge.node.id));
      pages++;
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(seen).toEqual(ids);
    expect(pages).toBe(3);
  });

  it('filters tasks by project, status, assignee and title search', async () => {
    const TASKS = `query($filter: TaskFilter) { tasks(filter: $filter, first: 100) { edges { node { id title } } } }`;
    const byTitle = await ok<any>(TASKS, { filter: { projectId, search: 'EVEN' } }, tokenFor(ALICE));
    expect(byTitle.tasks.edges.map((edge: any) => edge.node.id)).toEqual([ids[0], ids[2], ids[4]]);
    const byAssignee = await ok<any>(TASKS, { filter: { assigneeId: CAROL, status: 'TODO' } }, tokenFor(ALICE));
    expect(byAssignee.tasks.edges.map((edge: any) => edge.node.id)).toEqual(ids);
    const done = await ok<any>(TASKS, { filter: { projectId, status: 'DONE' } }, tokenFor(ALICE));
    expect(done.tasks.edges).toEqual([]);
    // LIKE wildcards in a search are literal characters.
    const wildcard = await ok<any>(TASKS, { filter: { projectId, search: '%' } }, tokenFor(ALICE));
    expect(wildcard.tasks.edges).toEqual([]);
    const underscore = await ok<any>(TASKS, { filter: { projectId, search: 'task_1' } }, tokenFor(ALICE));
    expect(underscore.tasks.edges).toEqual([]);
  });

  it('rejects page sizes outside 0..100 and malformed cursors, naming the argument', async () => {
    const tooMany = errorOf(await gql('{ tasks(first: 101) { edges { cursor } } }', {}, tokenFor(ALICE)));
    expect(tooMany.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    const negative = errorOf(await gql('{ tasks(first: -1) { edges { cursor } } }', {}, tokenFor(ALICE)));
    expect(negative.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    const cursor = errorOf(await gql('{ tasks(after: "garbage") { edges { cursor } } }', {}, tokenFor(ALICE)));
    expect(cursor.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    const none = await ok<any>('{ tasks(first: 0) { edges { cursor } pageInfo { hasNextPage } } }', {}, tokenFor(ALICE));
    expect(none.tasks).toEqual({ edges: [], pageInfo: { hasNextPage: true } });
  });

  it('lists projects for every signed-in user, VIEWERs included', async () => {
    const data = await ok<any>('{ projects(first: 100) { edges { node { id name owner { id } } } } }', {}, tokenFor(VIEWER, ['VIEWER']));
    expect(data.projects.edges.map((edge: any) => edge.node)).toContainEqual({ id: projectId, name: 'Paging', owner: { id: CAROL } });
  });

  it('resolves N Task references in one SQL query', async () => {
    const representations = ids.map((id) => ({ __typename: 'Task', id }));
    sqlLog.length = 0;
    const data = await ok<any>(
      'query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Task { id title } } }',
      { representations },
      tokenFor(ALICE),
    );
    expect(data._entities.map((entity: any) => entity.id)).toEqual(ids);
    expect(sqlLog.filter((sql) => /"tasks"/.test(sql))).toHaveLength(1);
    expect(sqlLog).toHaveLength(1);
  });

  it('lists User.assignedTasks with one SQL query, status filter included', async () => {
    sqlLog.length = 0;
    const data = await ok<any>(
      `query($representations: [_Any!]!) { _entities(representations: $representations) {
         ... on User { id assignedTasks(status: TODO, first: 3) { edges { node { id } } pageInfo { hasNextPage } } }
       } }`,
      { representations: [{ __typename: 'User', id: CAROL }] },
      tokenFor(BOB),
    );
    expect(data._entities[0].assignedTasks.edges.map((edge: any) => edge.node.id)).toEqual(ids.slice(0, 3));
    expect(data._entities[0].assignedTasks.pageInfo.hasNextPage).toBe(true);
    expect(sqlLog).toHaveLength(1);
  });

  it('hides entity fields from anonymous callers', async () => {
    const result = await gql(
      'query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Task { id title } } }',
      { representations: [{ __typename: 'Task', id: ids[0] }] },
    );
    expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('publishing', () => {
  it('every outbox row is a valid catalogue event the relay publishes to the bus', async () => {
    const task = await createTask({ title: 'Announce it', assigneeId: BOB });
    const bus = createPlatformEventBus();
    const received: DomainEvent[] = [];
    const listener = await bus.listen({
      types: ['task.created', 'task.updated', 'task.assigned', 'task.deleted'],
      handler: (event) => {
        received.push(event);
      },
    });
    const relay = createOutboxRelay({ prisma, bus, pollIntervalMs: 60_000 });
    try {
      // The bus validates each envelope against the catalogue: one bad row would reject the batch.
      await relay.flush();
      expect(await prisma.outboxEvent.count({ where: { publishedAt: null } })).toBe(0);
      const deadline = Date.now() + 5_000;
      while (!received.some((event) => event.aggregateId === task.id && event.type === 'task.assigned') && Date.now() < deadline) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      const mine = received.filter((event) => event.aggregateId === task.id);
      expect(mine.map((event) => event.type)).toEqual(['task.created', 'task.assigned']);
      expect(mine[0]).toMatchObject({ source: 'task', payload: { taskId: task.id, title: 'Announce it', assigneeId: BOB, actorId: ALICE } });
    } finally {
      await relay.stop();
      await listener.close();
      await bus.close();
    }
  });
});
