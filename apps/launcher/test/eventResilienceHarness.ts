/**
 * Helpers for eventResilience.test.ts: a burst of task changes produced through the real task
 * service (its outbox), an independent model of what notifications and analytics must end up
 * with, exact verification through the gateway, a consumer "crash" for the embedded mode, and a
 * private redis-server that can be killed and restarted.
 */
import { isDeepStrictEqual } from 'node:util';
import { graphqlOk } from '@meridian/testing';
import type { PlatformEventBus } from '@meridian/service-kit';

type Status = 'TODO' | 'IN_PROGRESS' | 'DONE';
type Kind = 'TASK_ASSIGNED' | 'TASK_STATUS_CHANGED' | 'TASK_COMMENTED';

export interface TestUser {
  id: string;
  token: string;
  name: string;
}

/** A free TCP port (processes and restarts need real numbers). */
export async function signUpUsers(gatewayUrl: string, count: number, tag: string): Promise<TestUser[]> {
  const users: TestUser[] = [];
  for (let index = 0; index < count; index++) {
    const name = `R${index}`;
    const data = await graphqlOk<{ signUp: { accessToken: string; user: { id: string } } }>(
      gatewayUrl,
      `mutation($input: SignUpInput!) { signUp(input: $input) { accessToken user { id } } }`,
      { variables: { input: { email: `${tag}-${index}-${Date.now()}@example.com`, password: 'correct horse battery staple', displayName: name } } },
    );
    users.push({ id: data.signUp.user.id, token: data.signUp.accessToken, name });
  }
  return users;
}

interface TaskState {
  id: string;
  createdById: string;
  assigneeId: string | null;
  status: Status;
  deleted: boolean;
}

/**
 * What notifications and analytics must read after the burst, built from the changes the task
 * service acknowledged (never from the consumers): the rules of the notification and analytics
 * READMEs, written down independently.
 */
export class ExpectedModel {
  readonly tasks = new Map<string, TaskState>();
  /** recipient -> "taskId|kind" -> count */
  readonly notifications = new Map<string, Map<string, number>>();
  readonly createdBy = new Map<string, number>();
  readonly completedBy = new Map<string, number>();
  completions = 0;
  events = 0;
  mutations = 0;

  constructor(readonly users: readonly TestUser[]) {
    for (const user of users) this.notifications.set(user.id, new Map());
  }

  private notify(recipients: readonly (string | null)[], actorId: string, taskId: string, kind: Kind) {
    for (const recipient of new Set(recipients)) {
      if (!recipient || recipient === actorId) continue;
      const perUser = this.notifications.get(recipient)!;
      const key = `${taskId}|${kind}`;
      perUser.set(key, (perUser.get(key) ?? 0) + 1);
    }
  }

  created(taskId: string, actorId: string, assigneeId: string | null) {
    this.tasks.set(taskId, { id: taskId, createdById: actorId, assigneeId, status: 'TODO', deleted: false });
    this.createdBy.set(actorId, (this.createdBy.get(actorId) ?? 0) + 1);
    this.events += assigneeId ? 2 : 1; // task.created (+ task.assigned)
    if (assigneeId) this.notify([assigneeId], actorId, taskId, 'TASK_ASSIGNED');
  }

  statusChanged(taskId: string, actorId: string, status: Status) {
    const task = this.tasks.get(taskId)!;
    if (task.status === status) return;
    this.events++;
    this.notify([task.createdById, task.assigneeId], actorId, taskId, 'TASK_STATUS_CHANGED');
    if (status === 'DONE') {
      // Credited to the assignee at that moment, or to the actor when unassigned.
      const credited = task.assigneeId ?? actorId;
      this.completedBy.set(credited, (this.completedBy.get(credited) ?? 0) + 1);
      this.completions++;
    }
    task.status = status;
  }

  commented(taskId: string, actorId: string) {
    const task = this.tasks.get(taskId)!;
    this.events++;
    this.notify([task.createdById, task.assigneeId], actorId, taskId, 'TASK_COMMENTED');
  }

  assigned(taskId: string, actorId: string, assigneeId: string | null) {
    const task = this.tasks.get(taskId)!;
    if (task.assigneeId === assigneeId) return; // no change, no event
    this.events++;
    task.assigneeId = assigneeId;
    this.notify([assigneeId], actorId, taskId, 'TASK_ASSIGNED');
  }

  deletedTask(taskId: string) {
    this.tasks.get(taskId)!.deleted = true;
    this.events++;
  }

  get notificationCount(): number {
    let total = 0;
    for (const perUser of this.notifications.values()) for (const count of perUser.values()) total += count;
    return total;
  }

  /** What the gateway must answer, in the shape `readActual` returns. */
  snapshot(): PlatformFigures {
    const open = [...this.tasks.values()].filter((task) => !task.deleted && task.status !== 'DONE');
    return {
      dashboard: {
        tasksCreated: this.tasks.size,
        tasksCompleted: this.completions,
        openTasks: open.length,
        activeUsers: this.users.length,
        openTasksByStatus: { TODO: open.filter((task) => task.status === 'TODO').length, IN_PROGRESS: open.filter((task) => task.status === 'IN_PROGRESS').length },
        daysCreated: this.tasks.size,
        daysCompleted: this.completions,
      },
      users: Object.fromEntries(
        this.users.map((user) => {
          let unread = 0;
          for (const count of this.notifications.get(user.id)!.values()) unread += count;
          return [
            user.name,
            {
              unreadNotificationCount: unread,
              tasksCreated: this.createdBy.get(user.id) ?? 0,
              tasksCompleted: this.completedBy.get(user.id) ?? 0,
              tasksOpenAssigned: open.filter((task) => task.assigneeId === user.id).length,
            },
          ];
        }),
      ),
    };
  }
}

export interface PlatformFigures {
  dashboard: {
    tasksCreated: number;
    tasksCompleted: number;
    openTasks: number;
    activeUsers: number;
    openTasksByStatus: Record<string, number>;
    /** Sums of the per-day series (must agree with the totals). */
    daysCreated: number;
    daysCompleted: number;
  };
  users: Record<string, { unreadNotificationCount: number; tasksCreated: number; tasksCompleted: number; tasksOpenAssigned: number }>;
}

const ME = /* GraphQL */ `
  { me { unreadNotificationCount stats(preset: LAST_7_DAYS) { tasksCreated tasksCompleted tasksOpenAssigned } } }
`;
const DASHBOARD = /* GraphQL */ `
  { dashboardStats(preset: LAST_7_DAYS) {
      totals { tasksCreated tasksCompleted activeUsers openTasks }
      openTasksByStatus { status count }
      days { tasksCreated tasksCompleted }
  } }
`;

/** The figures as a client of the gateway reads them. */
export async function readActual(gatewayUrl: string, users: readonly TestUser[]): Promise<PlatformFigures> {
  const dashboard = await graphqlOk(gatewayUrl, DASHBOARD, { token: users[0]!.token });
  const stats = dashboard.dashboardStats;
  const perUser = await Promise.all(users.map((user) => graphqlOk(gatewayUrl, ME, { token: user.token })));
  return {
    dashboard: {
      ...stats.totals,
      openTasksByStatus: Object.fromEntries(stats.openTasksByStatus.map((row: { status: string; count: number }) => [row.status, row.count])),
      daysCreated: stats.days.reduce((sum: number, day: { tasksCreated: number }) => sum + day.tasksCreated, 0),
      daysCompleted: stats.days.reduce((sum: number, day: { tasksCompleted: number }) => sum + day.tasksCompleted, 0),
    },
    users: Object.fromEntries(
      users.map((user, index) => {
        const me = perUser[index]!.me;
        return [user.name, { unreadNotificationCount: me.unreadNotificationCount, ...me.stats }];
      }),
    ),
  };
}

/** Polls until the gateway reads exactly the expected figures, or the deadline passes; returns the last reading. */
export async function waitForFigures(gatewayUrl: string, users: readonly TestUser[], expected: PlatformFigures, timeoutMs: number): Promise<PlatformFigures> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let actual: PlatformFigures | undefined;
    try {
      actual = await readActual(gatewayUrl, users);
      if (isDeepStrictEqual(actual, expected)) return actual;
    } catch (error) {
      // A consumer may be restarting: keep polling until the deadline.
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline && actual) return actual;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Every notification of every user, counted per "taskId|kind" (duplicates show as counts above the model's). */
export async function listNotifications(gatewayUrl: string, users: readonly TestUser[]): Promise<Record<string, Record<string, number>>> {
  const query = /* GraphQL */ `
    query($after: String) { me { notifications(first: 100, after: $after) {
      edges { node { id kind task { id } } } pageInfo { hasNextPage endCursor } } } }
  `;
  const result: Record<string, Record<string, number>> = {};
  for (const user of users) {
    const counts: Record<string, number> = {};
    const ids = new Set<string>();
    let after: string | null = null;
    for (;;) {
      const data: any = await graphqlOk(gatewayUrl, query, { token: user.token, variables: { after } });
      const page = data.me.notifications;
      for (const edge of page.edges) {
        if (ids.has(edge.node.id)) throw new Error(`notification ${edge.node.id} listed twice for ${user.name}`);
        ids.add(edge.node.id);
        const key = `${edge.node.task?.id}|${edge.node.kind}`;
        counts[key] = (counts[key] ?? 0) + 1;
      }
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    result[user.name] = counts;
  }
  return result;
}

export function expectedNotificationLists(model: ExpectedModel): Record<string, Record<string, number>> {
  return Object.fromEntries(model.users.map((user) => [user.name, Object.fromEntries([...model.notifications.get(user.id)!].sort())]));
}

export function sortedLists(lists: Record<string, Record<string, number>>): Record<string, Record<string, number>> {
  return Object.fromEntries(Object.entries(lists).map(([name, counts]) => [name, Object.fromEntries(Object.entries(counts).sort())]));
}

/**
 * The burst: `taskCount` tasks, each with its own sequence of changes (create with an assignee,
 * IN_PROGRESS, comments, reassignment, DONE, some reopened and completed again, some deleted),
 * run with `concurrency` tasks in flight, straight against the task subgraph with real tokens.
 * `onProgress(done, total)` is called after every acknowledged mutation (for mid-burst faults).
 */
export async function runBurst(options: {
  taskUrl: string;
  users: readonly TestUser[];
  model: ExpectedModel;
  taskCount: number;
  concurrency: number;
  tag: string;
  onProgress?: (done: number) => void | Promise<void>;
}): Promise<void> {
  const { users, model, taskUrl } = options;
  const n = users.length;
  const call = async (user: TestUser, query: string, variables: Record<string, unknown>) => {
    const data = await graphqlOk(taskUrl, query, { token: user.token, variables });
    model.mutations++;
    await options.onProgress?.(model.mutations);
    return data;
  };
  const setStatus = async (actor: TestUser, id: string, status: Status) => {
    await call(actor, `mutation($id: ID!, $s: TaskStatus!) { updateTask(id: $id, input: { status: $s }) { id } }`, { id, s: status });
    model.statusChanged(id, actor.id, status);
  };
  const comment = async (actor: TestUser, id: string, body: string) => {
    await call(actor, `mutation($id: ID!, $b: String!) { addComment(taskId: $id, body: $b) { id } }`, { id, b: body });
    model.commented(id, actor.id);
  };
  const assign = async (actor: TestUser, id: string, assignee: TestUser | null) => {
    await call(actor, `mutation($id: ID!, $a: ID) { assignTask(id: $id, assigneeId: $a) { id } }`, { id, a: assignee?.id ?? null });
    model.assigned(id, actor.id, assignee?.id ?? null);
  };

  async function scenario(i: number) {
    const creator = users[i % n]!;
    // Every 7th task is assigned to its own creator (nobody is notified of their own act).
    const first = i % 7 === 0 ? creator : users[(i * 3 + 1) % n]!;
    const second = users[(i + 4) % n]!;
    const commenter = users[(i * 5 + 2) % n]!;
    const created = await call(creator, `mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }`, {
      input: { title: `${options.tag} task ${i}`, assigneeId: first.id },
    });
    const id = created.createTask.id as string;
    model.created(id, creator.id, first.id);
    await setStatus(first, id, 'IN_PROGRESS');
    await comment(commenter, id, `Looking at task ${i}`);
    if (i % 9 === 4) {
      await assign(creator, id, null); // unassigned for a moment: nobody notified, no open-assigned count
      await assign(creator, id, second);
    } else {
      await assign(creator, id, second);
    }
    if (i % 4 !== 3) {
      await setStatus(second, id, 'DONE');
      if (i % 6 === 0) {
        await setStatus(creator, id, 'TODO'); // reopened: the first completion stays counted
        if (i % 12 === 0) await setStatus(second, id, 'DONE');
      }
    }
    if (i % 2 === 0) await comment(second, id, `Update on task ${i}`);
    if (i % 10 === 5) {
      await call(creator, `mutation($id: ID!) { deleteTask(id: $id) }`, { id });
      model.deletedTask(id);
    }
  }

  let next = 0;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (next < options.taskCount) await scenario(next++);
    }),
  );
}

/**
 * Wraps the shared in-memory bus for one consumer service so that the test can "crash" it: the
 * handlers in flight are abandoned (their promise rejects for the bus, whatever the database
 * does with the half-done transaction), later deliveries fail, and the membership ends at once,
 * as when a process dies. The service is then stopped and a new one started on the same data.
 */
export function createCrashableBus(bus: PlatformEventBus) {
  let crashed = false;
  let rejectInFlight!: (error: Error) => void;
  const crashSignal = new Promise<never>((_, reject) => (rejectInFlight = reject));
  crashSignal.catch(() => undefined);
  const subscriptions: { close(): Promise<void> }[] = [];
  const inFlight = new Set<Promise<unknown>>();
  const wrapped: PlatformEventBus = {
    publish: (events) => bus.publish(events),
    listen: (options) => bus.listen(options),
    replay: (options) => bus.replay(options),
    readDeadLetters: (group) => bus.readDeadLetters(group),
    close: async () => undefined, // shared: owned by the platform
    async subscribe(options) {
      const subscription = await bus.subscribe({
        ...options,
        handler: async (event: any, context: any) => {
          if (crashed) throw new Error('consumer crashed');
          const work = Promise.resolve((options.handler as any)(event, context));
          work.catch(() => undefined);
          inFlight.add(work);
          try {
            return await Promise.race([work, crashSignal]);
          } finally {
            inFlight.delete(work);
          }
        },
      } as any);
      subscriptions.push(subscription);
      return subscription;
    },
  };
  return {
    bus: wrapped,
    /**
     * Crashes, preferably while a delivery is in flight (waits up to `busyWaitMs` for one);
     * resolves with the number of deliveries abandoned half-way.
     */
    async crash(busyWaitMs = 2000): Promise<number> {
      const deadline = Date.now() + busyWaitMs;
      while (inFlight.size === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
      const abandoned = inFlight.size;
      crashed = true;
      rejectInFlight(new Error('consumer crashed'));
      // Leave the group now (in-flight deliveries are given up, not finished).
      await Promise.all(subscriptions.map((subscription) => subscription.close().catch(() => undefined)));
      return abandoned;
    },
  };
}

/** How many mutations `runBurst` sends for `taskCount` tasks (to place faults at a fraction of the burst). */
export function plannedMutations(taskCount: number): number {
  let total = 0;
  for (let i = 0; i < taskCount; i++) {
    total += 4 + (i % 9 === 4 ? 1 : 0) + (i % 2 === 0 ? 1 : 0) + (i % 10 === 5 ? 1 : 0);
    if (i % 4 !== 3) total += 1 + (i % 6 === 0 ? 1 : 0) + (i % 12 === 0 ? 1 : 0);
  }
  return total;
}
