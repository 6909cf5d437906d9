import DataLoader from 'dataloader';
import {
  Prisma,
  type Comment as CommentRow,
  type PrismaClient,
  type Project as ProjectRow,
  type Task as TaskRow,
  type TaskStatus,
} from '../generated/prisma/client';
import type { TaskStore, TaskTransaction } from '../domain/taskCommands';
import { recordTaskEvents } from '../events';

export type { TaskRow, ProjectRow, CommentRow };

/**
 * A user as this subgraph knows one: by id only. Resolvers return these as entity references;
 * the gateway fetches every other User field from the user subgraph.
 */
export interface UserRef {
  __typename?: 'User';
  id: string;
}

export interface Page<T> {
  rows: T[];
  hasNextPage: boolean;
}

export interface PageRequest {
  first: number;
  afterId?: string;
}

export interface TaskListFilter {
  status?: TaskStatus;
  assigneeId?: string;
  projectId?: string;
  /** Case-insensitive substring of the title. */
  search?: string;
}

/** The only place that touches the task tables. One instance per request (DataLoader cache). */
export interface TaskRepository extends TaskStore {
  /** Batched: every id asked for in one tick becomes one `WHERE id IN (...)` query. */
  taskById(id: string): Promise<TaskRow | null>;
  /** One query per list: rows are fetched by id order with one extra row to learn `hasNextPage`. */
  listTasks(filter: TaskListFilter, page: PageRequest): Promise<Page<TaskRow>>;
  /** Batched like taskById. */
  projectById(id: string): Promise<ProjectRow | null>;
  listProjects(page: PageRequest): Promise<Page<ProjectRow>>;
  /** Batched like taskById. */
  commentById(id: string): Promise<CommentRow | null>;
  /**
   * A task's comments, oldest first. Batched: the pages of every task asked for in one tick
   * (a list of tasks) become one query per distinct page request, in practice one.
   */
  listComments(taskId: string, page: PageRequest): Promise<Page<CommentRow>>;
  /** Batched: the counts of every task asked for in one tick become one grouped query. */
  commentCount(taskId: string): Promise<number>;
}

export interface TaskRepositoryOptions {
  /** Called after every committed write transaction, to wake the outbox relay (a spare wake-up costs one empty poll). */
  afterCommit?: () => void;
}

export function createTaskRepository(prisma: PrismaClient, options: TaskRepositoryOptions = {}): TaskRepository {
  const tasks = new DataLoader<string, TaskRow | null>(async (ids) => {
    const rows = await prisma.task.findMany({ where: { id: { in: [...ids] } } });
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  });
  const projects = new DataLoader<string, ProjectRow | null>(async (ids) => {
    const rows = await prisma.project.findMany({ where: { id: { in: [...ids] } } });
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  });

  const comments = new DataLoader<string, CommentRow | null>(async (ids) => {
    const rows = await prisma.comment.findMany({ where: { id: { in: [...ids] } } });
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  });
  const commentPages = new DataLoader<CommentPageKey, Page<CommentRow>, string>(
    async (keys) => {
      const pages = new Map<string, Page<CommentRow>>();
      // Tasks of one list share their page arguments, so this is one query per list.
      const groups = new Map<string, { page: PageRequest; taskIds: string[] }>();
      for (const key of keys) {
        const groupKey = `${key.page.first}:${key.page.afterId ?? ''}`;
        const group = groups.get(groupKey) ?? { page: key.page, taskIds: [] };
        group.taskIds.push(key.taskId);
        groups.set(groupKey, group);
      }
      for (const [groupKey, { page, taskIds }] of groups) {
        const byTask = new Map<string, CommentRow[]>();
        for (const row of await listCommentsOfTasks(prisma, taskIds, page)) {
          const rows = byTask.get(row.taskId);
          if (rows) rows.push(row);
          else byTask.set(row.taskId, [row]);
        }
        for (const taskId of taskIds) {
          const mine = byTask.get(taskId) ?? [];
          pages.set(`${taskId}|${groupKey}`, { rows: mine.slice(0, page.first), hasNextPage: mine.length > page.first });
        }
      }
      return keys.map((key) => pages.get(commentPageKey(key))!);
    },
    { cacheKeyFn: commentPageKey },
  );
  const commentCounts = new DataLoader<string, number>(async (taskIds) => {
    const groups = await prisma.comment.groupBy({ by: ['taskId'], where: { taskId: { in: [...taskIds] } }, _count: { _all: true } });
    const byTask = new Map(groups.map((group) => [group.taskId, group._count._all]));
    return taskIds.map((taskId) => byTask.get(taskId) ?? 0);
  });

  return {
    taskById: (id) => tasks.load(id),
    projectById: (id) => projects.load(id),
    commentById: (id) => comments.load(id),
    async listComments(taskId, page) {
      const result = await commentPages.load({ taskId, page });
      for (const row of result.rows) comments.prime(row.id, row);
      return result;
    },
    commentCount: (taskId) => commentCounts.load(taskId),

    async listTasks(filter, { first, afterId }) {
      const where: Prisma.TaskWhereInput = {
        ...(filter.status !== undefined ? { status: filter.status } : {}),
        ...(filter.assigneeId !== undefined ? { assigneeId: filter.assigneeId } : {}),
        ...(filter.projectId !== undefined ? { projectId: filter.projectId } : {}),
        ...(filter.search !== undefined ? { title: { contains: escapeLike(filter.search), mode: 'insensitive' } } : {}),
        ...(afterId !== undefined ? { id: { gt: afterId } } : {}),
      };
      const rows = await prisma.task.findMany({ where, orderBy: { id: 'asc' }, take: first + 1 });
      // Later Task.__resolveReference calls in the same request are served from the loader.
      for (const row of rows) tasks.prime(row.id, row);
      return { rows: rows.slice(0, first), hasNextPage: rows.length > first };
    },

    async listProjects({ first, afterId }) {
      const rows = await prisma.project.findMany({
        where: afterId !== undefined ? { id: { gt: afterId } } : {},
        orderBy: { id: 'asc' },
        take: first + 1,
      });
      for (const row of rows) projects.prime(row.id, row);
      return { rows: rows.slice(0, first), hasNextPage: rows.length > first };
    },

    async transaction(work) {
      const result = await prisma.$transaction((tx) => work(createTransaction(tx)));
      // Writes bypass the loaders: forget what they may hold so later reads in this request see the change.
      tasks.clearAll();
      projects.clearAll();
      comments.clearAll();
      commentPages.clearAll();
      commentCounts.clearAll();
      options.afterCommit?.();
      return result;
    },
  };
}

interface CommentPageKey {
  taskId: string;
  page: PageRequest;
}

function commentPageKey({ taskId, page }: CommentPageKey): string {
  return `${taskId}|${page.first}:${page.afterId ?? ''}`;
}

interface CommentSqlRow {
  id: string;
  task_id: string;
  author_id: string;
  body: string;
  created_at: Date;
  updated_at: Date;
}

/**
 * Up to `first + 1` comments of each task (the extra row tells `hasNextPage`), in one query:
 * Prisma's `take` limits a whole result, not each task's share of it, hence the window function.
 */
async function listCommentsOfTasks(prisma: PrismaClient, taskIds: string[], { first, afterId }: PageRequest): Promise<CommentRow[]> {
  const rows = await prisma.$queryRaw<CommentSqlRow[]>`
    SELECT id, task_id, author_id, body, created_at, updated_at
    FROM (
      SELECT c.*, row_number() OVER (PARTITION BY c.task_id ORDER BY c.id) AS position
      FROM comments c
      WHERE c.task_id IN (${Prisma.join(taskIds)})${afterId !== undefined ? Prisma.sql` AND c.id > ${afterId}` : Prisma.empty}
    ) ranked
    WHERE position <= ${first + 1}
    ORDER BY task_id, id`;
  return rows.map((row) => ({
    id: row.id,
    taskId: row.task_id,
    authorId: row.author_id,
    body: row.body,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  }));
}

/** Prisma passes `contains` to LIKE as it is: escape wildcards so a search for "50%" means those characters. */
function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (char) => `\\${char}`);
}

function createTransaction(tx: Prisma.TransactionClient): TaskTransaction {
  return {
    async lockTask(id) {
      // Row lock until commit: a concurrent reassignment cannot slip between the permission check and the write.
      const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM tasks WHERE id = ${id} FOR UPDATE`;
      if (locked.length === 0) return null;
      return tx.task.findUnique({ where: { id } });
    },
    async projectExists(id) {
      return (await tx.project.count({ where: { id } })) > 0;
    },
    insertTask: (task) => tx.task.create({ data: task }),
    updateTask: (id, changes) => tx.task.update({ where: { id }, data: changes }),
    async deleteTask(id) {
      await tx.task.delete({ where: { id } });
    },
    insertProject: (project) => tx.project.create({ data: project }),
    async shareLockTask(id) {
      // FOR SHARE: updates and deletes of the task wait for this commit; other comments do not.
      const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM tasks WHERE id = ${id} FOR SHARE`;
      if (locked.length === 0) return null;
      return tx.task.findUnique({ where: { id } });
    },
    insertComment: (comment) => tx.comment.create({ data: comment }),
    async lockComment(id) {
      const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM comments WHERE id = ${id} FOR UPDATE`;
      if (locked.length === 0) return null;
      return tx.comment.findUnique({ where: { id } });
    },
    async deleteComment(id) {
      await tx.comment.delete({ where: { id } });
    },
    recordEvents: (events) => recordTaskEvents(tx, events),
  };
}
