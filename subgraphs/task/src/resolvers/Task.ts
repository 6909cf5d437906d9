import { pageArgs, toConnection } from '@meridian/service-kit';
import type { TaskResolvers } from '../generated/resolvers-types';

export const Task: TaskResolvers = {
  // The gateway sends every Task reference of a plan in one request; the loader makes them one query.
  __resolveReference: (reference, { tasks }) => {
    return tasks.taskById(reference.id);
  },
  // Users belong to the user subgraph: hand the gateway a reference, it fetches the rest.
  assignee: (task) => (task.assigneeId === null ? null : { __typename: 'User', id: task.assigneeId }),
  createdBy: (task) => ({ __typename: 'User', id: task.createdById }),
  project: (task, _args, { tasks }) => (task.projectId === null ? null : tasks.projectById(task.projectId)),
  // Both are batched across the tasks of a list: one query for all their pages, one for all their counts.
  comments: async (task, args, { tasks }) => toConnection(await tasks.listComments(task.id, pageArgs(args))),
  commentCount: (task, _args, { tasks }) => tasks.commentCount(task.id),
};
