import {
  BoardDocument,
  DashboardStatsDocument,
  NotificationsDocument,
  type BoardQuery,
  type NotificationReceivedSubscription,
  type StatsUpdatedSubscription,
  type TaskChangedSubscription,
} from '../src/generated/graphql';
import {
  applyAllNotificationsRead,
  applyNotificationDelivery,
  applyNotificationRead,
  applyStatsUpdate,
  applyTaskChange,
  argumentsOfStoreFieldName,
  createDashboardCache,
} from '../src/lib';

type Change = TaskChangedSubscription['taskChanged'];
type Task = NonNullable<Change['task']>;

const ada = { __typename: 'User' as const, id: 'u-ada', displayName: 'Ada', avatarUrl: null };
const bob = { __typename: 'User' as const, id: 'u-bob', displayName: 'Bob', avatarUrl: null };

function task(id: string, overrides: Partial<Task> = {}): Task {
  return {
    __typename: 'Task',
    id,
    title: `Task ${id}`,
    description: null,
    status: 'TODO',
    priority: 'MEDIUM',
    dueAt: null,
    updatedAt: '2026-11-21T10:00:00.000Z',
    createdAt: '2026-11-21T10:00:00.000Z',
    commentCount: 0,
    assignee: null,
    createdBy: ada,
    project: null,
    ...overrides,
  } as Task;
}

function change(kind: Change['kind'], value: Task | null, taskId = value?.id ?? 'gone'): Change {
  return { __typename: 'TaskChange', cursor: `c-${Math.random()}`, kind, taskId, task: value, actor: ada, occurredAt: '2026-11-21T10:00:00.000Z' } as Change;
}

function seedBoard(cache: ReturnType<typeof createDashboardCache>, filter: Record<string, unknown> | null, tasks: Task[]) {
  cache.writeQuery({
    query: BoardDocument,
    variables: { filter },
    data: {
      __typename: 'Query',
      tasks: { __typename: 'TaskConnection', edges: tasks.map((node) => ({ __typename: 'TaskEdge', node })), pageInfo: { __typename: 'PageInfo', hasNextPage: false, endCursor: null } },
    } as BoardQuery,
  });
}

function boardIds(cache: ReturnType<typeof createDashboardCache>, filter: Record<string, unknown> | null): string[] {
  const data = cache.readQuery({ query: BoardDocument, variables: { filter } });
  return data?.tasks.edges.map((edge) => edge.node.id) ?? [];
}

describe('applyTaskChange', () => {
  it('adds a created task to the board once, however often the event arrives', () => {
    const cache = createDashboardCache();
    seedBoard(cache, null, [task('01A')]);
    const created = change('CREATED', task('01B'));
    applyTaskChange(cache, created);
    applyTaskChange(cache, created);
    expect(boardIds(cache, null)).toEqual(['01A', '01B']);
  });

  it('keeps creation (id) order when an older task arrives late', () => {
    const cache = createDashboardCache();
    seedBoard(cache, null, [task('01A'), task('01C')]);
    applyTaskChange(cache, change('CREATED', task('01B')));
    expect(boardIds(cache, null)).toEqual(['01A', '01B', '01C']);
  });

  it('updates a task in place (status change moves it between columns) without duplicating it', () => {
    const cache = createDashboardCache();
    seedBoard(cache, null, [task('01A')]);
    applyTaskChange(cache, change('UPDATED', task('01A', { status: 'DONE', title: 'Renamed' })));
    const data = cache.readQuery({ query: BoardDocument, variables: { filter: null } });
    expect(data?.tasks.edges).toHaveLength(1);
    expect(data?.tasks.edges[0]?.node).toMatchObject({ id: '01A', status: 'DONE', title: 'Renamed' });
  });

  it('moves a task in and out of filtered lists when its assignee changes', () => {
    const cache = createDashboardCache();
    seedBoard(cache, { assigneeId: 'u-bob' }, []);
    seedBoard(cache, { assigneeId: 'u-ada' }, [task('01A', { assignee: ada })]);
    seedBoard(cache, null, [task('01A', { assignee: ada })]);

    applyTaskChange(cache, change('ASSIGNED', task('01A', { assignee: bob })));
    expect(boardIds(cache, { assigneeId: 'u-bob' })).toEqual(['01A']);
    expect(boardIds(cache, { assigneeId: 'u-ada' })).toEqual([]);
    expect(boardIds(cache, null)).toEqual(['01A']);
  });

  it('respects project, status and search filters', () => {
    const cache = createDashboardCache();
    seedBoard(cache, { projectId: 'p1', search: 'deploy' }, []);
    applyTaskChange(cache, change('CREATED', task('01A', { title: 'Deploy v2', project: { __typename: 'Project', id: 'p1', name: 'Ops' } as Task['project'] })));
    applyTaskChange(cache, change('CREATED', task('01B', { title: 'Deploy v3', project: null })));
    applyTaskChange(cache, change('CREATED', task('01C', { title: 'Write docs', project: { __typename: 'Project', id: 'p1', name: 'Ops' } as Task['project'] })));
    expect(boardIds(cache, { projectId: 'p1', search: 'deploy' })).toEqual(['01A']);
  });

  it('removes a deleted task from every list and from the cache', () => {
    const cache = createDashboardCache();
    seedBoard(cache, null, [task('01A'), task('01B')]);
    seedBoard(cache, { status: 'TODO' }, [task('01B')]);
    applyTaskChange(cache, change('DELETED', null, '01B'));
    expect(boardIds(cache, null)).toEqual(['01A']);
    expect(boardIds(cache, { status: 'TODO' })).toEqual([]);
    expect((cache.extract() as Record<string, unknown>)['Task:01B']).toBeUndefined();
  });

  it('reads filter arguments back from store field names', () => {
    expect(argumentsOfStoreFieldName('tasks({"filter":{"assigneeId":"u1"},"first":100})', 'tasks')).toEqual({ filter: { assigneeId: 'u1' }, first: 100 });
    expect(argumentsOfStoreFieldName('tasks:{"filter":null}', 'tasks')).toEqual({ filter: null });
    expect(argumentsOfStoreFieldName('tasks', 'tasks')).toEqual({});
  });
});

describe('notifications', () => {
  type Delivery = NotificationReceivedSubscription['notificationReceived'];
  const notification = (id: string, readAt: string | null = null) => ({
    __typename: 'Notification' as const,
    id,
    kind: 'TASK_ASSIGNED' as const,
    title: `You were assigned ${id}`,
    body: 'by Ada',
    readAt,
    createdAt: '2026-11-21T10:00:00.000Z',
    task: null,
  });
  const delivery = (id: string, unreadCount: number): Delivery =>
    ({ __typename: 'NotificationDelivery', cursor: `n-${id}`, unreadCount, notification: notification(id) }) as Delivery;

  function seed(cache: ReturnType<typeof createDashboardCache>, ids: string[], unread: number) {
    cache.writeQuery({
      query: NotificationsDocument,
      data: {
        __typename: 'Query',
        me: {
          __typename: 'User',
          id: 'u-bob',
          unreadNotificationCount: unread,
          notifications: { __typename: 'NotificationConnection', edges: ids.map((id) => ({ __typename: 'NotificationEdge', node: notification(id) })) },
        },
      } as never,
    });
  }
  const read = (cache: ReturnType<typeof createDashboardCache>) => cache.readQuery({ query: NotificationsDocument })?.me;

  it('puts a new notification first and takes the unread count from the delivery', () => {
    const cache = createDashboardCache();
    seed(cache, ['n1'], 1);
    applyNotificationDelivery(cache, 'u-bob', delivery('n2', 2));
    expect(read(cache)?.notifications?.edges.map((edge) => edge.node.id)).toEqual(['n2', 'n1']);
    expect(read(cache)?.unreadNotificationCount).toBe(2);
  });

  it('ignores a delivery it already has (replay after resubscribing): no duplicate, count untouched', () => {
    const cache = createDashboardCache();
    seed(cache, ['n1'], 1);
    applyNotificationDelivery(cache, 'u-bob', delivery('n2', 2));
    applyNotificationRead(cache, 'u-bob', { id: 'n2', readAt: '2026-11-21T11:00:00.000Z' }, true);
    applyNotificationDelivery(cache, 'u-bob', delivery('n2', 2));
    expect(read(cache)?.notifications?.edges.map((edge) => edge.node.id)).toEqual(['n2', 'n1']);
    expect(read(cache)?.unreadNotificationCount).toBe(1);
  });

  it('mark all read zeroes the count and marks every cached notification', () => {
    const cache = createDashboardCache();
    seed(cache, ['n1', 'n2'], 2);
    applyAllNotificationsRead(cache, 'u-bob', '2026-11-21T12:00:00.000Z');
    const me = read(cache);
    expect(me?.unreadNotificationCount).toBe(0);
    expect(me?.notifications?.edges.every((edge) => edge.node.readAt === '2026-11-21T12:00:00.000Z')).toBe(true);
  });
});

describe('applyStatsUpdate', () => {
  it('replaces the cached statistics of the range', () => {
    const cache = createDashboardCache();
    const stats = (completed: number) =>
      ({
        __typename: 'DashboardStats',
        from: '2026-11-15T00:00:00.000Z',
        to: '2026-11-22T00:00:00.000Z',
        totals: { __typename: 'StatsTotals', tasksCreated: 3, tasksCompleted: completed, activeUsers: 2, openTasks: 3 - completed, averageCompletionSeconds: null },
        days: [{ __typename: 'DailyStats', date: '2026-11-21', tasksCreated: 3, tasksCompleted: completed, activeUsers: 2 }],
        openTasksByStatus: [{ __typename: 'StatusCount', status: 'TODO', count: 3 - completed }],
      }) as unknown as StatsUpdatedSubscription['statsUpdated'];
    applyStatsUpdate(cache, 'LAST_7_DAYS', stats(0));
    applyStatsUpdate(cache, 'LAST_7_DAYS', stats(1));
    const data = cache.readQuery({ query: DashboardStatsDocument, variables: { preset: 'LAST_7_DAYS' } });
    expect(data?.dashboardStats.totals.tasksCompleted).toBe(1);
    expect(data?.dashboardStats.days[0]?.tasksCompleted).toBe(1);
    expect(cache.readQuery({ query: DashboardStatsDocument, variables: { preset: 'LAST_30_DAYS' } })).toBeNull();
  });
});
