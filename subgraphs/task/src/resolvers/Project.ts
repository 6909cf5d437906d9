import { pageArgs, toConnection } from '@meridian/service-kit';
import type { ProjectResolvers } from '../generated/resolvers-types';

export const Project: ProjectResolvers = {
  __resolveReference: (reference, { tasks }) => {
    return tasks.projectById(reference.id);
  },
  owner: (project) => ({ __typename: 'User', id: project.ownerId }),
  tasks: async (project, { status, ...args }, { tasks }) =>
    toConnection(await tasks.listTasks({ projectId: project.id, ...(status ? { status } : {}) }, pageArgs(args))),
};
