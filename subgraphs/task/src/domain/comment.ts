import { badUserInput, forbidden } from '@meridian/errors';
import type { SignedInViewer } from '@meridian/tokens';
import { mayWrite } from './task';

/** A comment as the rules see it (plain data; the data layer's rows have this shape). */
export interface CommentRecord {
  id: string;
  taskId: string;
  authorId: string;
  body: string;
  createdAt: Date;
  updatedAt: Date;
}

export const COMMENT_BODY_MAX = 5_000;
/** The longest excerpt a task.comment-added event may carry (the catalogue's limit). */
export const COMMENT_EXCERPT_MAX = 280;

/** Trims the body; what remains must be 1 to COMMENT_BODY_MAX characters. */
export function validateCommentBody(value: string | null | undefined, field = 'body'): string {
  if (value === null || value === undefined) throw badUserInput(field, 'is required.');
  const body = value.trim();
  if (body.length < 1 || body.length > COMMENT_BODY_MAX) {
    throw badUserInput(field, `must be 1 to ${COMMENT_BODY_MAX.toLocaleString('en-US')} characters.`);
  }
  // PostgreSQL text cannot hold NUL, and lone surrogates are not valid UTF-8: refuse them here
  // rather than fail in the database with an opaque error.
  if (body.includes('\u0000') || /[\uD800-\uDFFF]/u.test(body)) throw badUserInput(field, 'contains characters that cannot be stored.');
  return body;
}

// Node has Intl.Segmenter; cutting on grapheme boundaries keeps emoji and accents whole.
const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/**
 * The start of a comment for events and notifications: the whole body when it fits in
 * COMMENT_EXCERPT_MAX characters, else its first graphemes followed by "…".
 */
export function commentExcerpt(body: string): string {
  if (body.length <= COMMENT_EXCERPT_MAX) return body;
  let excerpt = '';
  for (const { segment } of graphemes.segment(body)) {
    if (excerpt.length + segment.length > COMMENT_EXCERPT_MAX - 1) break;
    excerpt += segment;
  }
  return `${excerpt.trimEnd()}…`;
}

/** Its author (while still allowed to write) and ADMINs may delete a comment. */
export function mayDeleteComment(viewer: SignedInViewer, comment: Pick<CommentRecord, 'authorId'>): boolean {
  if (!mayWrite(viewer)) return false;
  return viewer.roles.includes('ADMIN') || comment.authorId === viewer.userId;
}

export function assertMayDeleteComment(viewer: SignedInViewer, comment: Pick<CommentRecord, 'authorId'>): void {
  if (!mayDeleteComment(viewer, comment)) throw forbidden('Only the comment\'s author or an admin may delete it.');
}
