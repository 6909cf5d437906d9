import DataLoader from 'dataloader';
import type { Prisma, PrismaClient, Project as ProjectRow, Task as TaskRow, TaskStatus } from '../generated/prisma/client';
import type { TaskStore, TaskTransaction } from '../domain/taskCommands';
import { recordTaskEvents } from '../events';

export type { TaskRow, ProjectRow };

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

  return {
    taskById: (id) => tasks.load(id),
    projectById: (id) => projects.load(id),

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
      options.afterCommit?.();
      return result;
    },
  };
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
    recordEvents: (events) => recordTaskEvents(tx, events),
  };
}
