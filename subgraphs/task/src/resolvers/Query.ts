import { pageArgs, toConnection } from '@meridian/service-kit';
import type { QueryResolvers } from '../generated/resolvers-types';
import { validateSearch, validateUserId } from '../domain/task';

// Reads need the tasks:read scope (every role has it: the workspace is shared by the whole team), see schema.graphql.
export const Query: QueryResolvers = {
  task: (_parent, { id }, { tasks }) => {
    return tasks.taskById(id);
  },
  tasks: async (_parent, { filter, ...args }, { tasks }) => {
    const page = pageArgs(args);
    const assigneeId = validateUserId(filter?.assigneeId, 'filter.assigneeId') ?? undefined;
    const search = validateSearch(filter?.search, 'filter.search');
    return toConnection(
      await tasks.listTasks(
        {
          ...(filter?.status ? { status: filter.status } : {}),
          ...(assigneeId !== undefined ? { assigneeId } : {}),
          ...(filter?.projectId ? { projectId: filter.projectId } : {}),
          ...(search !== undefined ? { search } : {}),
        },
        page,
      ),
    );
  },
  project: (_parent, { id }, { tasks }) => {
    return tasks.projectById(id);
  },
  projects: async (_parent, args, { tasks }) => {
    return toConnection(await tasks.listProjects(pageArgs(args)));
  },
};
