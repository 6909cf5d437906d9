import { GraphQLError } from 'graphql';
import { domainEventCatalogue } from '@meridian/domain-events';
import type { Role, SignedInViewer } from '@meridian/tokens';
import { commentExcerpt, mayDeleteComment, validateCommentBody, COMMENT_EXCERPT_MAX } from '../src/domain/comment';
import type { TaskRecord } from '../src/domain/task';
import { taskCommentAddedEvent } from '../src/events';

function viewer(userId: string, roles: Role[] = ['MEMBER']): SignedInViewer {
  return { kind: 'user', userId, roles, scopes: [], tokenId: 'jti', expiresAt: 0 };
}

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

describe('validateCommentBody', () => {
  it('trims the body and accepts 1 to 5,000 characters', () => {
    expect(validateCommentBody('  Looks good \n')).toBe('Looks good');
    expect(validateCommentBody('x')).toBe('x');
    expect(validateCommentBody(` ${'y'.repeat(5_000)} `)).toHaveLength(5_000);
  });

  it.each([
    ['a blank body', '  \n\t '],
    ['an empty body', ''],
    ['a 5,001-character body', 'x'.repeat(5_001)],
    ['a NUL character', 'before\u0000after'],
    ['a lone surrogate', 'broken \uD83D text'],
  ])('rejects %s with BAD_USER_INPUT naming body', (_case, body) => {
    const error = errorOf(() => validateCommentBody(body));
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'body' });
    expect(error.message).toContain('body');
  });
});

describe('commentExcerpt', () => {
  it('keeps a short body whole', () => {
    expect(commentExcerpt('Short and sweet')).toBe('Short and sweet');
    expect(commentExcerpt('x'.repeat(COMMENT_EXCERPT_MAX))).toHaveLength(COMMENT_EXCERPT_MAX);
  });

  it('cuts a long body to at most 280 characters ending with an ellipsis', () => {
    const excerpt = commentExcerpt('word '.repeat(200).trim());
    expect(excerpt.length).toBeLessThanOrEqual(COMMENT_EXCERPT_MAX);
    expect(excerpt.endsWith('…')).toBe(true);
    expect('word '.repeat(200).startsWith(excerpt.slice(0, -1))).toBe(true);
  });

  it('never splits an emoji', () => {
    // Each family emoji is 11 UTF-16 units; a cut by code units would leave half of one.
    const family = '👨‍👩‍👧‍👦';
    const excerpt = commentExcerpt(family.repeat(100));
    expect(excerpt.length).toBeLessThanOrEqual(COMMENT_EXCERPT_MAX);
    expect(excerpt.slice(0, -1)).toBe(family.repeat(Math.floor((COMMENT_EXCERPT_MAX - 1) / family.length)));
  });
});

describe('who may delete a comment', () => {
  const comment = { authorId: 'alice' };

  it('lets its author and admins delete it', () => {
    expect(mayDeleteComment(viewer('alice'), comment)).toBe(true);
    expect(mayDeleteComment(viewer('root', ['ADMIN']), comment)).toBe(true);
  });

  it('forbids other members, and authors who may no longer write', () => {
    expect(mayDeleteComment(viewer('bob'), comment)).toBe(false);
    expect(mayDeleteComment(viewer('alice', ['VIEWER']), comment)).toBe(false);
  });
});

describe('task.comment-added', () => {
  const task: TaskRecord = {
    id: '01JTASK0000000000000000000',
    title: 'Write docs',
    description: null,
    status: 'TODO',
    priority: 'MEDIUM',
    dueAt: null,
    assigneeId: '01JBOB00000000000000000000',
    createdById: '01JALICE000000000000000000',
    projectId: null,
    createdAt: new Date('2026-11-21T10:00:00Z'),
    updatedAt: new Date('2026-11-21T10:00:00Z'),
  };

  it('is a valid catalogue event even for the longest body', () => {
    const event = taskCommentAddedEvent(task, {
      id: '01JCOMMENT0000000000000000',
      taskId: task.id,
      authorId: '01JCAROL000000000000000000',
      body: 'é'.repeat(5_000),
      createdAt: new Date(),
      updatedAt: new Date(),
    });
    expect(domainEventCatalogue['task.comment-added'].schema.safeParse(event.payload).success).toBe(true);
    expect(event).toMatchObject({
      type: 'task.comment-added',
      aggregateId: task.id,
      payload: { commentId: '01JCOMMENT0000000000000000', actorId: '01JCAROL000000000000000000', assigneeId: task.assigneeId },
    });
  });
});
