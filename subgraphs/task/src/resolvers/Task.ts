import { requireSignedIn } from '@meridian/service-kit';
import type { TaskResolvers } from '../generated/resolvers-types';

export const Task: TaskResolvers = {
  // The gateway sends every Task reference of a plan in one request; the loader makes them one query.
  __resolveReference: (reference, { viewer, tasks }) => {
    requireSignedIn(viewer);
    return tasks.taskById(reference.id);
  },
  // Users belong to the user subgraph: hand the gateway a reference, it fetches the rest.
  assignee: (task) => (task.assigneeId === null ? null : { __typename: 'User', id: task.assigneeId }),
  createdBy: (task) => ({ __typename: 'User', id: task.createdById }),
  project: (task, _args, { tasks }) => (task.projectId === null ? null : tasks.projectById(task.projectId)),
};
