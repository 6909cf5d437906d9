/**
 * Test harness of the notification subgraph: a local JWKS endpoint whose key this file holds
 * (to mint real RS256 tokens), a bus of the test's own (in memory, or Redis Streams under a
 * unique prefix), a database of its own (PGlite in memory, or a fresh PostgreSQL database),
 * and helpers to publish task events and read notifications over real HTTP.
 */
import { randomUUID } from 'node:crypto';
import { createDomainEvent, createPlatformEventBus, type DomainEvent } from '@meridian/domain-events';
import type { EventBus } from '@meridian/event-bridge';
import { createLogger } from '@meridian/service-kit';
import { deleteRedisKeys, graphql, openTestDatabase, startTestTokenIssuer, type GraphQLResponse, type OpenTestDatabase, type TestMode } from '@meridian/testing';
import type { Role } from '@meridian/tokens';

export interface Harness {
  jwksUrl: string;
  bus: EventBus<DomainEvent>;
  /** A second bus on the same stream (distributed: same Redis prefix), for a second replica. */
  createBus(): EventBus<DomainEvent>;
  /** Env for loadNotificationConfig: port 0, own database, own bus prefix. */
  env: Record<string, string>;
  databaseUrl?: string;
  tokenFor(userId: string, roles?: Role[]): string;
  close(): Promise<void>;
}

export async function createHarness(mode: TestMode, name: string): Promise<Harness> {
  const tokens = await startTestTokenIssuer();
  const distributed = mode.name === 'distributed';
  const redisUrl = distributed ? (process.env.TEST_REDIS_URL as string) : undefined;
  const streamPrefix = `test:${name}:${process.pid}:${randomUUID()}`;
  const logger = createLogger('event-bridge', process.env.TEST_LOG_LEVEL ?? 'silent');
  const buses: EventBus<DomainEvent>[] = [];
  const createBus = () => {
    const bus = createPlatformEventBus({ redisUrl, streamPrefix, logger });
    buses.push(bus);
    return bus;
  };
  const bus = createBus();

  let testDb: OpenTestDatabase | undefined;
  const env: Record<string, string> = {
    NOTIFICATION_PORT: '0',
    JWKS_URL: tokens.jwksUrl,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    NODE_ENV: 'test',
    DUE_SOON_CHECK_INTERVAL_MS: '0',
  };
  if (distributed) {
    // In distributed mode migrations are a deployment step, not a start-up one.
    testDb = await openTestDatabase('notification');
    await testDb.database.close();
    env.NOTIFICATION_DATABASE_URL = testDb.testDatabase.databaseUrl as string;
  } else {
    env.DATA_DIR = ':memory:';
  }

  return {
    jwksUrl: tokens.jwksUrl,
    bus,
    createBus,
    env,
    ...(testDb?.testDatabase.databaseUrl ? { databaseUrl: testDb.testDatabase.databaseUrl } : {}),
    tokenFor(userId, roles = ['MEMBER']) {
      return tokens.sign({ userId, roles });
    },
    async close() {
      for (const each of buses) await each.close();
      await tokens.close();
      await testDb?.close();
      if (redisUrl) await deleteRedisKeys(redisUrl, streamPrefix);
    },
  };
}

export function errorOf(result: GraphQLResponse) {
  expect(result.errors).toHaveLength(1);
  return result.errors![0]!;
}

// ---- task events as the task service publishes them ----

let taskCounter = 0;
/** A ULID-shaped task id, unique in this process. */
export function newTaskId(): string {
  taskCounter++;
  return `01JTASK${String(taskCounter).padStart(8, '0')}${randomUUID().replace(/-/g, '').slice(0, 11).toUpperCase()}`;
}

export interface TaskFixture {
  id: string;
  title: string;
  createdById: string;
  assigneeId?: string | null;
  dueAt?: Date | null;
  status?: 'TODO' | 'IN_PROGRESS' | 'DONE';
}

function snapshot(task: TaskFixture, actorId: string) {
  return {
    taskId: task.id,
    projectId: null,
    title: task.title,
    priority: 'MEDIUM' as const,
    dueAt: task.dueAt ? task.dueAt.toISOString() : null,
    createdById: task.createdById,
    assigneeId: task.assigneeId ?? null,
    actorId,
  };
}

export const taskEvents = {
  created: (task: TaskFixture) =>
    createDomainEvent('task.created', { payload: { ...snapshot(task, task.createdById), status: task.status ?? 'TODO' } }),
  updated: (task: TaskFixture, actorId: string, changedFields: ('title' | 'status' | 'dueAt')[], previousStatus: 'TODO' | 'IN_PROGRESS' | 'DONE') =>
    createDomainEvent('task.updated', {
      payload: { ...snapshot(task, actorId), changedFields, previousStatus, newStatus: task.status ?? 'TODO' },
    }),
  assigned: (task: TaskFixture, previousAssigneeId: string | null, actorId: string) =>
    createDomainEvent('task.assigned', {
      payload: { taskId: task.id, projectId: null, title: task.title, assigneeId: task.assigneeId ?? null, previousAssigneeId, actorId },
    }),
  deleted: (task: TaskFixture, actorId: string) =>
    createDomainEvent('task.deleted', {
      payload: {
        taskId: task.id,
        projectId: null,
        title: task.title,
        status: task.status ?? 'TODO',
        createdById: task.createdById,
        assigneeId: task.assigneeId ?? null,
        actorId,
      },
    }),
  commented: (task: TaskFixture, actorId: string, excerpt: string) =>
    createDomainEvent('task.comment-added', {
      payload: {
        commentId: randomUUID(),
        taskId: task.id,
        projectId: null,
        title: task.title,
        createdById: task.createdById,
        assigneeId: task.assigneeId ?? null,
        actorId,
        excerpt,
      },
    }),
  userRegistered: (userId: string, email: string, displayName: string) =>
    createDomainEvent('auth.user-registered', { payload: { userId, email, displayName } }),
};

// ---- reading notifications over HTTP ----

export const NOTIFICATION_FIELDS = 'id kind title body readAt createdAt recipient { id } task { id }';
export const MY_NOTIFICATIONS = `query($reps: [_Any!]!, $unreadOnly: Boolean, $first: Int, $after: String) {
  _entities(representations: $reps) { ... on User {
    id
    notifications(unreadOnly: $unreadOnly, first: $first, after: $after) {
      edges { cursor node { ${NOTIFICATION_FIELDS} } } pageInfo { hasNextPage endCursor }
    }
    unreadNotificationCount
  } }
}`;

export interface NotificationView {
  id: string;
  kind: string;
  title: string;
  body: string;
  readAt: string | null;
  createdAt: string;
  recipient: { id: string };
  task: { id: string } | null;
}

export function createClient(url: () => string, tokenFor: (userId: string) => string) {
  const gql = (query: string, variables: Record<string, unknown> = {}, token?: string) =>
    graphql(url(), query, { variables, ...(token ? { token } : {}) });
  return {
    gql,
    async ok<T = Record<string, any>>(query: string, variables: Record<string, unknown>, token: string): Promise<T> {
      const result = await gql(query, variables, token);
      expect(result.errors).toBeUndefined();
      return result.data as T;
    },
    /** All of `userId`'s in-app notifications (newest first), as that user sees them. */
    async notificationsOf(userId: string, options: { unreadOnly?: boolean } = {}): Promise<NotificationView[]> {
      const result = await gql(MY_NOTIFICATIONS, { reps: [{ __typename: 'User', id: userId }], first: 100, unreadOnly: options.unreadOnly ?? false }, tokenFor(userId));
      expect(result.errors).toBeUndefined();
      return (result.data as any)._entities[0].notifications.edges.map((edge: any) => edge.node);
    },
  };
}
