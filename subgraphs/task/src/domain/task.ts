import { badUserInput, forbidden } from '@meridian/errors';
// Type-only: the rules need the viewer's shape, not the token machinery (keeps this module light to load).
import type { Role, SignedInViewer } from '@meridian/tokens';

export type TaskStatus = 'TODO' | 'IN_PROGRESS' | 'DONE';
export type TaskPriority = 'LOW' | 'MEDIUM' | 'HIGH' | 'URGENT';

/** A task as the rules see it (plain data; the data layer's rows have this shape). */
export interface TaskRecord {
  id: string;
  title: string;
  description: string | null;
  status: TaskStatus;
  priority: TaskPriority;
  dueAt: Date | null;
  assigneeId: string | null;
  createdById: string;
  projectId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ProjectRecord {
  id: string;
  name: string;
  description: string | null;
  ownerId: string;
  createdAt: Date;
  updatedAt: Date;
}

export const TITLE_MAX = 200;
export const PROJECT_NAME_MAX = 100;
export const DESCRIPTION_MAX = 10_000;
export const SEARCH_MAX = 200;
/** User ids come from another service; only their shape can be checked here. */
export const USER_ID_MAX = 64;
// Bounds keep dates inside what every client and PostgreSQL represent without surprises.
const DUE_AT_MIN = Date.UTC(1970, 0, 1);
const DUE_AT_MAX = Date.UTC(10_000, 0, 1);

export interface NewTask {
  title: string;
  description: string | null;
  priority: TaskPriority;
  dueAt: Date | null;
  projectId: string | null;
  assigneeId: string | null;
}

/** Fields of a task that `updateTask` may change; absent = unchanged. */
export interface TaskChanges {
  title?: string;
  description?: string | null;
  status?: TaskStatus;
  priority?: TaskPriority;
  dueAt?: Date | null;
}

export interface NewProject {
  name: string;
  description: string | null;
}

type Maybe<T> = T | null | undefined;

export function validateTitle(value: Maybe<string>, field: string): string {
  if (value === null || value === undefined) throw badUserInput(field, 'is required.');
  const title = value.trim();
  if (title.length < 1 || title.length > TITLE_MAX) throw badUserInput(field, `must be 1 to ${TITLE_MAX} characters.`);
  return title;
}

/** Blank descriptions are stored as null, so "no description" has one representation. */
export function validateDescription(value: Maybe<string>, field: string): string | null {
  if (value === null || value === undefined || value.trim() === '') return null;
  if (value.length > DESCRIPTION_MAX) throw badUserInput(field, `must be at most ${DESCRIPTION_MAX.toLocaleString('en-US')} characters.`);
  return value;
}

export function validateDueAt(value: Maybe<Date | string>, field: string): Date | null {
  if (value === null || value === undefined) return null;
  const date = value instanceof Date ? value : new Date(value);
  const time = date.getTime();
  if (Number.isNaN(time)) throw badUserInput(field, 'must be a valid ISO-8601 date-time.');
  if (time < DUE_AT_MIN || time >= DUE_AT_MAX) throw badUserInput(field, 'must be between the years 1970 and 9999.');
  return date;
}

/** Checks the shape of an id of another service's user; null/undefined mean "nobody". */
export function validateUserId(value: Maybe<string>, field: string): string | null {
  if (value === null || value === undefined) return null;
  if (value.length < 1 || value.length > USER_ID_MAX || !/^[A-Za-z0-9_-]+$/.test(value)) {
    throw badUserInput(field, 'is not a valid user id.');
  }
  return value;
}

function validateOptionalId(value: Maybe<string>, field: string): string | null {
  if (value === null || value === undefined) return null;
  if (value.trim() === '') throw badUserInput(field, 'must not be blank.');
  return value;
}

export function validateNewTask(input: {
  title: string;
  description?: Maybe<string>;
  priority?: Maybe<TaskPriority>;
  dueAt?: Maybe<Date | string>;
  projectId?: Maybe<string>;
  assigneeId?: Maybe<string>;
}): NewTask {
  return {
    title: validateTitle(input.title, 'input.title'),
    description: validateDescription(input.description, 'input.description'),
    priority: input.priority ?? 'MEDIUM',
    dueAt: validateDueAt(input.dueAt, 'input.dueAt'),
    projectId: validateOptionalId(input.projectId, 'input.projectId'),
    assigneeId: validateUserId(input.assigneeId, 'input.assigneeId'),
  };
}

/** Undefined fields are left alone; null is only accepted where the field is optional. */
export function validateTaskChanges(input: {
  title?: Maybe<string>;
  description?: Maybe<string>;
  status?: Maybe<TaskStatus>;
  priority?: Maybe<TaskPriority>;
  dueAt?: Maybe<Date | string>;
}): TaskChanges {
  const changes: TaskChanges = {};
  if (input.title !== undefined) changes.title = validateTitle(input.title, 'input.title');
  if (input.description !== undefined) changes.description = validateDescription(input.description, 'input.description');
  if (input.status !== undefined) {
    if (input.status === null) throw badUserInput('input.status', 'cannot be null.');
    changes.status = input.status;
  }
  if (input.priority !== undefined) {
    if (input.priority === null) throw badUserInput('input.priority', 'cannot be null.');
    changes.priority = input.priority;
  }
  if (input.dueAt !== undefined) changes.dueAt = validateDueAt(input.dueAt, 'input.dueAt');
  if (Object.keys(changes).length === 0) {
    throw badUserInput('input', 'nothing to change: give title, description, status, priority or dueAt.');
  }
  return changes;
}

/** The subset of `changes` that differs from `task`, so no-op edits write nothing and publish nothing. */
export function effectiveChanges(task: TaskRecord, changes: TaskChanges): TaskChanges {
  const effective: TaskChanges = {};
  if (changes.title !== undefined && changes.title !== task.title) effective.title = changes.title;
  if (changes.description !== undefined && changes.description !== task.description) effective.description = changes.description;
  if (changes.status !== undefined && changes.status !== task.status) effective.status = changes.status;
  if (changes.priority !== undefined && changes.priority !== task.priority) effective.priority = changes.priority;
  if (changes.dueAt !== undefined && (changes.dueAt?.getTime() ?? null) !== (task.dueAt?.getTime() ?? null)) {
    effective.dueAt = changes.dueAt;
  }
  return effective;
}

export function validateNewProject(input: { name: string; description?: Maybe<string> }): NewProject {
  const name = input.name.trim();
  if (name.length < 1 || name.length > PROJECT_NAME_MAX) {
    throw badUserInput('input.name', `must be 1 to ${PROJECT_NAME_MAX} characters.`);
  }
  return { name, description: validateDescription(input.description, 'input.description') };
}

/** Blank searches mean "no search"; long ones are rejected rather than silently cut. */
export function validateSearch(value: Maybe<string>, field: string): string | undefined {
  const search = value?.trim();
  if (!search) return undefined;
  if (search.length > SEARCH_MAX) throw badUserInput(field, `must be at most ${SEARCH_MAX} characters.`);
  return search;
}

/**
 * Writing needs the MEMBER or ADMIN role. Deny by default: a token with only VIEWER, or with
 * no role the platform knows, reads but never writes.
 */
export function mayWrite(viewer: SignedInViewer): boolean {
  return hasRole(viewer, 'ADMIN') || hasRole(viewer, 'MEMBER');
}

function hasRole(viewer: SignedInViewer, role: Role): boolean {
  return viewer.roles.includes(role);
}

export function assertMayWrite(viewer: SignedInViewer): void {
  if (!mayWrite(viewer)) throw forbidden('Your role may read tasks and projects but not change them.');
}

/** The creator and the assignee own a task together; ADMINs may change any task. */
export function mayChangeTask(viewer: SignedInViewer, task: Pick<TaskRecord, 'createdById' | 'assigneeId'>): boolean {
  if (!mayWrite(viewer)) return false;
  if (hasRole(viewer, 'ADMIN')) return true;
  return task.createdById === viewer.userId || task.assigneeId === viewer.userId;
}

export function assertMayChangeTask(viewer: SignedInViewer, task: Pick<TaskRecord, 'createdById' | 'assigneeId'>): void {
  assertMayWrite(viewer);
  if (!mayChangeTask(viewer, task)) {
    throw forbidden('Only the task\'s creator, its assignee or an admin may change it.');
  }
}
