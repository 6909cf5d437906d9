import { notFound } from '@meridian/errors';
import type { SignedInViewer } from '@meridian/tokens';
import { taskCommentAddedEvent } from '../events';
import { assertMayDeleteComment, validateCommentBody, type CommentRecord } from './comment';
import { newId } from './ids';
import { assertMayWrite } from './task';
import type { TaskStore } from './taskCommands';

// Same order as the task commands: role, then input, then the database.

/** Any MEMBER or ADMIN may comment on any task: the workspace is shared by the whole team. */
export function addComment(store: TaskStore, viewer: SignedInViewer, taskId: string, body: string): Promise<CommentRecord> {
  assertMayWrite(viewer);
  const text = validateCommentBody(body, 'body');
  return store.transaction(async (tx) => {
    // Locked so the task cannot be deleted (or renamed) between this read and the commit:
    // the event describes the task as it is when the comment lands.
    const task = await tx.shareLockTask(taskId);
    if (!task) throw notFound('Task', taskId);
    const comment = await tx.insertComment({ id: newId(), taskId: task.id, authorId: viewer.userId, body: text });
    await tx.recordEvents([taskCommentAddedEvent(task, comment)]);
    return comment;
  });
}

/** The author or an ADMIN may delete a comment. The catalogue has no event for this yet, so none is written. */
export function deleteComment(store: TaskStore, viewer: SignedInViewer, id: string): Promise<string> {
  assertMayWrite(viewer);
  return store.transaction(async (tx) => {
    const comment = await tx.lockComment(id);
    if (!comment) throw notFound('Comment', id);
    assertMayDeleteComment(viewer, comment);
    await tx.deleteComment(id);
    return id;
  });
}
