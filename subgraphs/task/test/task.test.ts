import { GraphQLError } from 'graphql';
import type { Role, SignedInViewer } from '@meridian/tokens';
import {
  assertMayChangeTask,
  assertMayWrite,
  effectiveChanges,
  mayChangeTask,
  validateDueAt,
  validateNewProject,
  validateNewTask,
  validateSearch,
  validateTaskChanges,
  validateUserId,
  type TaskRecord,
} from '../src/domain/task';

function viewer(userId: string, roles: Role[] = ['MEMBER']): SignedInViewer {
  return { kind: 'user', userId, roles, scopes: [], tokenId: 'jti', expiresAt: 0 };
}

const task: TaskRecord = {
  id: '01JTASK0000000000000000000',
  title: 'Write docs',
  description: null,
  status: 'TODO',
  priority: 'MEDIUM',
  dueAt: null,
  assigneeId: 'bob',
  createdById: 'alice',
  projectId: null,
  createdAt: new Date('2026-11-21T10:00:00Z'),
  updatedAt: new Date('2026-11-21T10:00:00Z'),
};

/** Runs `fn` and returns the GraphQL error it throws (code and field), failing if it does not throw. */
function errorOf(fn: () => unknown): { code: unknown; field: unknown; message: string } {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    const { extensions, message } = error as GraphQLError;
    return { code: extensions.code, field: extensions.field, message };
  }
  throw new Error('expected an error');
}

describe('validateNewTask', () => {
  it('trims the title and fills defaults', () => {
    expect(validateNewTask({ title: '  Ship it  ' })).toEqual({
      title: 'Ship it',
      description: null,
      priority: 'MEDIUM',
      dueAt: null,
      projectId: null,
      assigneeId: null,
    });
  });

  it.each([
    ['a blank title', { title: '   ' }, 'input.title'],
    ['a 201-character title', { title: 'x'.repeat(201) }, 'input.title'],
    ['a 10,001-character description', { title: 't', description: 'x'.repeat(10_001) }, 'input.description'],
    ['an invalid dueAt', { title: 't', dueAt: 'not a date' }, 'input.dueAt'],
    ['a dueAt after 9999', { title: 't', dueAt: new Date(Date.UTC(10_000, 0, 1)) }, 'input.dueAt'],
    ['a blank projectId', { title: 't', projectId: ' ' }, 'input.projectId'],
    ['a malformed assigneeId', { title: 't', assigneeId: 'bob; drop table' }, 'input.assigneeId'],
  ])('rejects %s with BAD_USER_INPUT naming the field', (_case, input, field) => {
    expect(errorOf(() => validateNewTask(input))).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });

  it('accepts exactly 200 characters of title and 10,000 of description', () => {
    const fields = validateNewTask({ title: 'x'.repeat(200), description: 'y'.repeat(10_000) });
    expect(fields.title).toHaveLength(200);
    expect(fields.description).toHaveLength(10_000);
  });

  it('stores a blank description as none', () => {
    expect(validateNewTask({ title: 't', description: '  ' }).description).toBeNull();
  });
});

describe('validateTaskChanges', () => {
  it('keeps only the given fields; null clears optional ones', () => {
    expect(validateTaskChanges({ status: 'DONE', dueAt: null })).toEqual({ status: 'DONE', dueAt: null });
  });

  it('needs at least one field', () => {
    expect(errorOf(() => validateTaskChanges({}))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input' });
  });

  it.each([
    [{ title: null }, 'input.title'],
    [{ status: null }, 'input.status'],
    [{ priority: null }, 'input.priority'],
    [{ title: '' }, 'input.title'],
  ])('rejects %p naming %s', (input, field) => {
    expect(errorOf(() => validateTaskChanges(input))).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });
});

describe('effectiveChanges', () => {
  it('drops values equal to the current ones, comparing dates by instant', () => {
    const due = new Date('2026-12-01T00:00:00Z');
    const current = { ...task, dueAt: due };
    expect(effectiveChanges(current, { title: 'Write docs', status: 'DONE', dueAt: new Date(due.getTime()) })).toEqual({ status: 'DONE' });
    expect(effectiveChanges(current, { dueAt: null })).toEqual({ dueAt: null });
  });
});

describe('other validators', () => {
  it('validates project names', () => {
    expect(validateNewProject({ name: ' Roadmap ' })).toEqual({ name: 'Roadmap', description: null });
    expect(errorOf(() => validateNewProject({ name: 'x'.repeat(101) }))).toMatchObject({ field: 'input.name' });
  });

  it('treats blank searches as none and rejects long ones', () => {
    expect(validateSearch('  ', 'filter.search')).toBeUndefined();
    expect(validateSearch(' docs ', 'filter.search')).toBe('docs');
    expect(errorOf(() => validateSearch('x'.repeat(201), 'filter.search'))).toMatchObject({ field: 'filter.search' });
  });

  it('accepts ULIDs and UUIDs as user ids, null as nobody', () => {
    expect(validateUserId('01JD3J5KQ2Z8X9V7M4N6P0R1ST', 'assigneeId')).toBe('01JD3J5KQ2Z8X9V7M4N6P0R1ST');
    expect(validateUserId('9b2f3c1e-0d4a-4e0b-9d53-0f4b2c7a1e11', 'assigneeId')).toBe('9b2f3c1e-0d4a-4e0b-9d53-0f4b2c7a1e11');
    expect(validateUserId(null, 'assigneeId')).toBeNull();
    expect(errorOf(() => validateUserId('', 'assigneeId'))).toMatchObject({ field: 'assigneeId' });
  });

  it('keeps valid due dates', () => {
    expect(validateDueAt('2026-12-24T18:00:00Z', 'input.dueAt')?.toISOString()).toBe('2026-12-24T18:00:00.000Z');
  });
});

describe('who may change a task', () => {
  it('lets the creator, the assignee and admins change it', () => {
    expect(mayChangeTask(viewer('alice'), task)).toBe(true);
    expect(mayChangeTask(viewer('bob'), task)).toBe(true);
    expect(mayChangeTask(viewer('root', ['ADMIN']), task)).toBe(true);
  });

  it('forbids other members', () => {
    expect(mayChangeTask(viewer('carol'), task)).toBe(false);
    expect(errorOf(() => assertMayChangeTask(viewer('carol'), task))).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('forbids VIEWERs and role-less tokens from writing, even on their own tasks', () => {
    expect(mayChangeTask(viewer('alice', ['VIEWER']), task)).toBe(false);
    expect(errorOf(() => assertMayWrite(viewer('alice', ['VIEWER'])))).toMatchObject({ code: 'FORBIDDEN' });
    expect(errorOf(() => assertMayWrite(viewer('alice', [])))).toMatchObject({ code: 'FORBIDDEN' });
  });
});
