import { requireSignedIn } from '@meridian/service-kit';
import type { MutationResolvers } from '../generated/resolvers-types';
import { addComment, deleteComment } from '../domain/commentCommands';
import { assignTask, createProject, createTask, deleteTask, updateTask } from '../domain/taskCommands';

// Resolvers only translate GraphQL to use cases; the rules live in src/domain.
export const Mutation: MutationResolvers = {
  createProject: (_parent, { input }, { viewer, tasks }) => createProject(tasks, requireSignedIn(viewer), input),
  createTask: (_parent, { input }, { viewer, tasks }) => createTask(tasks, requireSignedIn(viewer), input),
  updateTask: (_parent, { id, input }, { viewer, tasks }) => updateTask(tasks, requireSignedIn(viewer), id, input),
  assignTask: (_parent, { id, assigneeId }, { viewer, tasks }) => assignTask(tasks, requireSignedIn(viewer), id, assigneeId),
  deleteTask: (_parent, { id }, { viewer, tasks }) => deleteTask(tasks, requireSignedIn(viewer), id),
  addComment: (_parent, { taskId, body }, { viewer, tasks }) => addComment(tasks, requireSignedIn(viewer), taskId, body),
  deleteComment: (_parent, { id }, { viewer, tasks }) => deleteComment(tasks, requireSignedIn(viewer), id),
};
