import { badUserInput, notFound } from '@meridian/errors';
import type { SignedInViewer } from '@meridian/tokens';
import { taskAssignedEvent, taskCreatedEvent, taskDeletedEvent, taskUpdatedEvent, type TaskEvent } from '../events';
import type { CommentRecord } from './comment';
import { newId } from './ids';
import {
  assertMayChangeTask,
  assertMayWrite,
  effectiveChanges,
  validateNewProject,
  validateNewTask,
  validateTaskChanges,
  validateUserId,
  type NewProject,
  type NewTask,
  type ProjectRecord,
  type TaskChanges,
  type TaskPriority,
  type TaskRecord,
  type TaskStatus,
} from './task';

/** What a command may do inside one database transaction (implemented in src/data). */
export interface TaskTransaction {
  /** Reads a task and locks it until commit, so the permission check and the write see the same row. */
  lockTask(id: string): Promise<TaskRecord | null>;
  projectExists(id: string): Promise<boolean>;
  insertTask(task: NewTask & { id: string; createdById: string }): Promise<TaskRecord>;
  updateTask(id: string, changes: TaskChanges & { assigneeId?: string | null }): Promise<TaskRecord>;
  deleteTask(id: string): Promise<void>;
  insertProject(project: NewProject & { id: string; ownerId: string }): Promise<ProjectRecord>;
  /**
   * Reads a task and keeps it from changing or disappearing until commit, without blocking other
   * readers of the same lock (so comments on one task do not wait for each other).
   */
  shareLockTask(id: string): Promise<TaskRecord | null>;
  insertComment(comment: { id: string; taskId: string; authorId: string; body: string }): Promise<CommentRecord>;
  /** Reads a comment and locks it until commit. */
  lockComment(id: string): Promise<CommentRecord | null>;
  deleteComment(id: string): Promise<void>;
  /** Outbox: committed together with the change, or not at all. */
  recordEvents(events: readonly TaskEvent[]): Promise<void>;
}

export interface TaskStore {
  /** Runs `work` in one transaction; a throw rolls everything back (change and events). */
  transaction<T>(work: (tx: TaskTransaction) => Promise<T>): Promise<T>;
}

type Maybe<T> = T | null | undefined;

// Every command checks the role, then validates, then touches the database: a VIEWER learns
// nothing from validation messages, and bad input never opens a transaction.

export function createProject(
  store: TaskStore,
  viewer: SignedInViewer,
  input: { name: string; description?: Maybe<string> },
): Promise<ProjectRecord> {
  assertMayWrite(viewer);
  const fields = validateNewProject(input);
  return store.transaction((tx) => tx.insertProject({ id: newId(), ownerId: viewer.userId, ...fields }));
}

export function createTask(
  store: TaskStore,
  viewer: SignedInViewer,
  input: {
    title: string;
    description?: Maybe<string>;
    priority?: Maybe<TaskPriority>;
    dueAt?: Maybe<Date | string>;
    projectId?: Maybe<string>;
    assigneeId?: Maybe<string>;
  },
): Promise<TaskRecord> {
  assertMayWrite(viewer);
  const fields = validateNewTask(input);
  return store.transaction(async (tx) => {
    if (fields.projectId !== null && !(await tx.projectExists(fields.projectId))) {
      throw badUserInput('input.projectId', 'no project has this id.');
    }
    const task = await tx.insertTask({ id: newId(), createdById: viewer.userId, ...fields });
    const events = [taskCreatedEvent(task, viewer.userId)];
    // Consumers that care about assignments (notifications) only need to follow task.assigned.
    if (task.assigneeId !== null) events.push(taskAssignedEvent(task, null, viewer.userId));
    await tx.recordEvents(events);
    return task;
  });
}

export function updateTask(
  store: TaskStore,
  viewer: SignedInViewer,
  id: string,
  input: {
    title?: Maybe<string>;
    description?: Maybe<string>;
    status?: Maybe<TaskStatus>;
    priority?: Maybe<TaskPriority>;
    dueAt?: Maybe<Date | string>;
  },
): Promise<TaskRecord> {
  assertMayWrite(viewer);
  const changes = validateTaskChanges(input);
  return store.transaction(async (tx) => {
    const task = await loadForChange(tx, viewer, id);
    const effective = effectiveChanges(task, changes);
    const changedFields = Object.keys(effective) as (keyof TaskChanges)[];
    if (changedFields.length === 0) return task;
    const updated = await tx.updateTask(id, effective);
    await tx.recordEvents([taskUpdatedEvent(updated, task, changedFields, viewer.userId)]);
    return updated;
  });
}

export function assignTask(store: TaskStore, viewer: SignedInViewer, id: string, assigneeId: Maybe<string>): Promise<TaskRecord> {
  assertMayWrite(viewer);
  const nextAssigneeId = validateUserId(assigneeId, 'assigneeId');
  return store.transaction(async (tx) => {
    const task = await loadForChange(tx, viewer, id);
    if (task.assigneeId === nextAssigneeId) return task;
    const updated = await tx.updateTask(id, { assigneeId: nextAssigneeId });
    await tx.recordEvents([taskAssignedEvent(updated, task.assigneeId, viewer.userId)]);
    return updated;
  });
}

export function deleteTask(store: TaskStore, viewer: SignedInViewer, id: string): Promise<string> {
  assertMayWrite(viewer);
  return store.transaction(async (tx) => {
    const task = await loadForChange(tx, viewer, id);
    await tx.deleteTask(id);
    await tx.recordEvents([taskDeletedEvent(task, viewer.userId)]);
    return id;
  });
}

async function loadForChange(tx: TaskTransaction, viewer: SignedInViewer, id: string): Promise<TaskRecord> {
  const task = await tx.lockTask(id);
  if (!task) throw notFound('Task', id);
  assertMayChangeTask(viewer, task);
  return task;
}
