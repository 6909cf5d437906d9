/**
 * Boots the task subgraph over real HTTP (port 0) on its own database (PGlite, or PostgreSQL
 * when TEST_POSTGRES_URL is set), with RS256 tokens checked against a real JWKS endpoint.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createPlatformEventBus, type DomainEvent } from '@meridian/domain-events';
import { createOutboxRelay, type EventBus } from '@meridian/event-bridge';
import { createLogger, type RunningServer, type SubgraphServer } from '@meridian/service-kit';
import { openTestDatabase, startTestTokenIssuer, type OpenTestDatabase, type TestTokenIssuer } from '@meridian/testing';
import { createTokenVerifier, type Role } from '@meridian/tokens';
import { PrismaClient } from '../src/generated/prisma/client';
import { createTaskSubgraph } from '../src/server';

interface GraphQLResponse<T = Record<string, any>> {
  data?: T | null;
  errors?: { message: string; path?: string[]; extensions?: { code?: string; field?: string } }[];
}

let testDb: OpenTestDatabase;
let prisma: PrismaClient<'query'>;
let subgraph: SubgraphServer;
let subscriptionBus: EventBus<DomainEvent>;
let taskServer: RunningServer;
let tokens: TestTokenIssuer;
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
  return tokens.sign({ userId, roles });
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
  return {
    tasks: await prisma.task.count(),
    projects: await prisma.project.count(),
    comments: await prisma.comment.count(),
    outbox: await prisma.outboxEvent.count(),
  };
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
  tokens = await startTestTokenIssuer();
  testDb = await openTestDatabase('task');
  subscriptionBus = createPlatformEventBus();
  prisma = new PrismaClient({ adapter: testDb.adapter, log: [{ emit: 'event', level: 'query' }] });
  prisma.$on('query', (event) => sqlLog.push(event.query));

  subgraph = createTaskSubgraph({
    prisma,
    bus: subscriptionBus,
    verifier: createTokenVerifier({ jwksUrl: tokens.jwksUrl, issuer: tokens.issuer, audience: tokens.audience }),
    logger: createLogger('task', 'silent'),
    afterCommit: () => {
      commits++;
    },
  });
  taskServer = await subgraph.listen(0);
});

afterAll(async () => {
  await subgraph?.close();
  await subscriptionBus?.close();
  await tokens?.close();
  await prisma?.$disconnect();
  await testDb?.close();
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
    // Same kid, issuer and audience as a real token: only the signature gives it away.
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const forged = tokens.sign({ userId: ALICE, roles: ['ADMIN'], signingKey: stranger });
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

describe('comments', () => {
  const ADD_COMMENT = `mutation($taskId: ID!, $body: String!) {
    addComment(taskId: $taskId, body: $body) { id body author { id } createdAt task { id title commentCount } }
  }`;
  const DELETE_COMMENT = `mutation($id: ID!) { deleteComment(id: $id) }`;
  const TASK_COMMENTS = `query($id: ID!, $first: Int, $after: String) {
    task(id: $id) { commentCount comments(first: $first, after: $after) {
      edges { cursor node { id body author { id } createdAt } } pageInfo { hasNextPage endCursor }
    } }
  }`;

  async function addComment(taskId: string, body: string, token = tokenFor(BOB)) {
    return (await ok<{ addComment: any }>(ADD_COMMENT, { taskId, body }, token)).addComment;
  }

  it('lets any member comment on any task, trims the body and records task.comment-added with it', async () => {
    const { createProject: project } = await ok<{ createProject: any }>(CREATE_PROJECT, { input: { name: 'Comments' } }, tokenFor(ALICE));
    const task = await createTask({ title: 'Review the draft', projectId: project.id, assigneeId: CAROL });
    const before = await counts();
    const commitsBefore = commits;

    // Bob neither created nor is assigned the task: commenting is open to every member.
    const comment = await addComment(task.id, '  Two typos on page 3.\n ');
    expect(comment).toMatchObject({ body: 'Two typos on page 3.', author: { id: BOB }, task: { id: task.id, title: 'Review the draft', commentCount: 1 } });
    expect(comment.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(new Date(comment.createdAt).toISOString()).toBe(comment.createdAt);

    expect(await counts()).toEqual({ ...before, comments: before.comments + 1, outbox: before.outbox + 1 });
    expect(commits).toBe(commitsBefore + 1);
    const events = await prisma.outboxEvent.findMany({ where: { aggregateId: task.id, type: 'task.comment-added' } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      source: 'task',
      version: 1,
      publishedAt: null,
      payload: {
        commentId: comment.id,
        taskId: task.id,
        projectId: project.id,
        title: 'Review the draft',
        createdById: ALICE,
        assigneeId: CAROL,
        actorId: BOB,
        excerpt: 'Two typos on page 3.',
      },
    });
  });

  it('puts at most 280 characters of a long comment in the event, and the whole body in the comment', async () => {
    const task = await createTask({ title: 'Long read' });
    const body = 'All good. '.repeat(500).trim();
    expect(body).toHaveLength(4_999);
    const comment = await addComment(task.id, body, tokenFor(ALICE));
    expect(comment.body).toBe(body);
    const [event] = await prisma.outboxEvent.findMany({ where: { aggregateId: task.id, type: 'task.comment-added' } });
    const excerpt = (event?.payload as { excerpt: string }).excerpt;
    expect(excerpt.length).toBeLessThanOrEqual(280);
    expect(excerpt.endsWith('…')).toBe(true);
    expect(body.startsWith(excerpt.slice(0, -1))).toBe(true);
  });

  it('lists a task\'s comments oldest first, page by page, for every signed-in user', async () => {
    const task = await createTask({ title: 'Chatty' });
    const added: { id: string; createdAt: string }[] = [];
    for (const [index, author] of [ALICE, BOB, ADMIN, ALICE, BOB].entries()) {
      added.push(await addComment(task.id, `Comment ${index}`, tokenFor(author, author === ADMIN ? ['ADMIN'] : ['MEMBER'])));
    }
    const seen: { id: string; body: string; author: { id: string }; createdAt: string }[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      // VIEWERs may read comments, like everything else in the workspace.
      const data: any = await ok(TASK_COMMENTS, { id: task.id, first: 2, after }, tokenFor(VIEWER, ['VIEWER']));
      expect(data.task.commentCount).toBe(5);
      seen.push(...data.task.comments.edges.map((edge: any) => edge.node));
      pages++;
      if (!data.task.comments.pageInfo.hasNextPage) break;
      after = data.task.comments.pageInfo.endCursor;
    }
    expect(pages).toBe(3);
    expect(seen.map(({ id, createdAt }) => ({ id, createdAt }))).toEqual(added.map(({ id, createdAt }) => ({ id, createdAt })));
    expect(seen.map((comment) => comment.body)).toEqual(['Comment 0', 'Comment 1', 'Comment 2', 'Comment 3', 'Comment 4']);
    expect(seen.map((comment) => comment.author.id)).toEqual([ALICE, BOB, ADMIN, ALICE, BOB]);

    const empty = await createTask({ title: 'Quiet' });
    const none: any = await ok(TASK_COMMENTS, { id: empty.id }, tokenFor(ALICE));
    expect(none.task).toEqual({ commentCount: 0, comments: { edges: [], pageInfo: { hasNextPage: false, endCursor: null } } });

    const tooMany = errorOf(await gql(TASK_COMMENTS, { id: task.id, first: 101 }, tokenFor(ALICE)));
    expect(tooMany.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    const badCursor = errorOf(await gql(TASK_COMMENTS, { id: task.id, after: 'nope' }, tokenFor(ALICE)));
    expect(badCursor.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it('forbids VIEWERs and anonymous callers from commenting, and writes nothing', async () => {
    const task = await createTask({ title: 'Read only for some' });
    const before = await counts();
    const commitsBefore = commits;
    expect(errorOf(await gql(ADD_COMMENT, { taskId: task.id, body: 'Hi' }, tokenFor(VIEWER, ['VIEWER']))).extensions?.code).toBe('FORBIDDEN');
    expect(errorOf(await gql(ADD_COMMENT, { taskId: task.id, body: 'Hi' }, tokenFor(CAROL, []))).extensions?.code).toBe('FORBIDDEN');
    expect(errorOf(await gql(ADD_COMMENT, { taskId: task.id, body: 'Hi' })).extensions?.code).toBe('UNAUTHENTICATED');
    expect(await counts()).toEqual(before);
    expect(commits).toBe(commitsBefore);
  });

  it.each([
    ['a blank body', '   \n\t'],
    ['an empty body', ''],
    ['a 5,001-character body', 'x'.repeat(5_001)],
    ['a body with a NUL character', 'a\u0000b'],
  ])('rejects %s with BAD_USER_INPUT naming body and writes nothing', async (_case, body) => {
    const task = await createTask({ title: 'Validate me' });
    const before = await counts();
    const error = errorOf(await gql(ADD_COMMENT, { taskId: task.id, body }, tokenFor(BOB)));
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'body' });
    expect(error.message).toContain('body');
    expect(await counts()).toEqual(before);
  });

  it('accepts exactly 5,000 characters after trimming', async () => {
    const task = await createTask({ title: 'Edge' });
    const comment = await addComment(task.id, `  ${'z'.repeat(5_000)}  `);
    expect(comment.body).toHaveLength(5_000);
  });

  it('answers NOT_FOUND for a comment on an unknown task, and writes nothing', async () => {
    const before = await counts();
    const error = errorOf(await gql(ADD_COMMENT, { taskId: '01JUNKNOWN0000000000000000', body: 'Hello?' }, tokenFor(BOB)));
    expect(error.extensions?.code).toBe('NOT_FOUND');
    expect(await counts()).toEqual(before);
  });

  it('lets the author and ADMINs delete a comment; others get FORBIDDEN and nothing changes', async () => {
    const task = await createTask({ title: 'Moderated' });
    const mine = await addComment(task.id, 'Bob was here');
    const other = await addComment(task.id, 'Bob again');
    const before = await counts();

    // Not even the task's creator may delete someone else's comment; nor may a demoted author.
    for (const token of [tokenFor(ALICE), tokenFor(CAROL), tokenFor(BOB, ['VIEWER'])]) {
      expect(errorOf(await gql(DELETE_COMMENT, { id: mine.id }, token)).extensions?.code).toBe('FORBIDDEN');
    }
    expect(errorOf(await gql(DELETE_COMMENT, { id: mine.id })).extensions?.code).toBe('UNAUTHENTICATED');
    expect(await counts()).toEqual(before);

    expect((await ok<{ deleteComment: string }>(DELETE_COMMENT, { id: mine.id }, tokenFor(BOB))).deleteComment).toBe(mine.id);
    expect((await ok<{ deleteComment: string }>(DELETE_COMMENT, { id: other.id }, tokenFor(ADMIN, ['ADMIN']))).deleteComment).toBe(other.id);
    expect(await counts()).toEqual({ ...before, comments: before.comments - 2 });

    const data: any = await ok(TASK_COMMENTS, { id: task.id }, tokenFor(ALICE));
    expect(data.task).toMatchObject({ commentCount: 0, comments: { edges: [] } });
    expect(errorOf(await gql(DELETE_COMMENT, { id: mine.id }, tokenFor(BOB))).extensions?.code).toBe('NOT_FOUND');
  });

  it('deletes a task\'s comments with the task', async () => {
    const task = await createTask({ title: 'Doomed' });
    await addComment(task.id, 'First');
    await addComment(task.id, 'Second');
    expect(await prisma.comment.count({ where: { taskId: task.id } })).toBe(2);
    await ok(DELETE_TASK, { id: task.id }, tokenFor(ALICE));
    expect(await prisma.comment.count({ where: { taskId: task.id } })).toBe(0);
  });

  it('counts and lists the comments of N tasks with one query each', async () => {
    const { createProject: project } = await ok<{ createProject: any }>(CREATE_PROJECT, { input: { name: 'Busy' } }, tokenFor(ALICE));
    const expected: { id: string; commentCount: number; bodies: string[] }[] = [];
    for (let index = 0; index < 4; index++) {
      const task = await createTask({ title: `Busy ${index}`, projectId: project.id });
      const bodies: string[] = [];
      for (let number = 0; number < index; number++) {
        bodies.push(`Task ${index} comment ${number}`);
        await addComment(task.id, bodies[number]!);
      }
      expected.push({ id: task.id, commentCount: index, bodies: bodies.slice(0, 2) });
    }

    sqlLog.length = 0;
    const data: any = await ok(
      `query($filter: TaskFilter) { tasks(filter: $filter) { edges { node {
         id commentCount comments(first: 2) { edges { node { body } } pageInfo { hasNextPage } }
       } } } }`,
      { filter: { projectId: project.id } },
      tokenFor(VIEWER, ['VIEWER']),
    );
    const nodes = data.tasks.edges.map((edge: any) => edge.node);
    expect(nodes.map((node: any) => ({ id: node.id, commentCount: node.commentCount, bodies: node.comments.edges.map((edge: any) => edge.node.body) }))).toEqual(expected);
    expect(nodes.map((node: any) => node.comments.pageInfo.hasNextPage)).toEqual([false, false, false, true]);
    // One for the tasks, one for every count, one for every page of comments.
    expect(sqlLog).toHaveLength(3);
    expect(sqlLog.filter((sql) => /COUNT/i.test(sql))).toHaveLength(1);
  });

  it('resolves N Comment references in one SQL query, for signed-in callers only', async () => {
    const task = await createTask({ title: 'Referenced' });
    const ids = [(await addComment(task.id, 'One')).id, (await addComment(task.id, 'Two')).id];
    const QUERY = 'query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Comment { id body task { id } } } }';
    const representations = ids.map((id) => ({ __typename: 'Comment', id }));
    sqlLog.length = 0;
    const data = await ok<any>(QUERY, { representations }, tokenFor(CAROL));
    expect(data._entities).toEqual([
      { id: ids[0], body: 'One', task: { id: task.id } },
      { id: ids[1], body: 'Two', task: { id: task.id } },
    ]);
    // One for the comments, one for their (shared) task.
    expect(sqlLog).toHaveLength(2);
    expect(errorOf(await gql(QUERY, { representations })).extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('publishing', () => {
  it('every outbox row is a valid catalogue event the relay publishes to the bus', async () => {
    const task = await createTask({ title: 'Announce it', assigneeId: BOB });
    const { addComment: comment } = await ok<{ addComment: { id: string } }>(
      'mutation($taskId: ID!) { addComment(taskId: $taskId, body: "On it") { id } }',
      { taskId: task.id },
      tokenFor(BOB),
    );
    const bus = createPlatformEventBus();
    const received: DomainEvent[] = [];
    const listener = await bus.listen({
      types: ['task.created', 'task.updated', 'task.assigned', 'task.deleted', 'task.comment-added'],
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
      while (!received.some((event) => event.aggregateId === task.id && event.type === 'task.comment-added') && Date.now() < deadline) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      const mine = received.filter((event) => event.aggregateId === task.id);
      expect(mine.map((event) => event.type)).toEqual(['task.created', 'task.assigned', 'task.comment-added']);
      expect(mine[0]).toMatchObject({ source: 'task', payload: { taskId: task.id, title: 'Announce it', assigneeId: BOB, actorId: ALICE } });
      expect(mine[2]).toMatchObject({ payload: { commentId: comment.id, taskId: task.id, actorId: BOB, excerpt: 'On it' } });
    } finally {
      await relay.stop();
      await listener.close();
      await bus.close();
    }
  });
});
