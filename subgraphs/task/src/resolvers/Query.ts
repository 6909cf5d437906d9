import { pageArgs, requireSignedIn, toConnection } from '@meridian/service-kit';
import type { QueryResolvers } from '../generated/resolvers-types';
import { validateSearch, validateUserId } from '../domain/task';

// Reads are open to every signed-in user: the workspace is shared by the whole team.
export const Query: QueryResolvers = {
  task: (_parent, { id }, { viewer, tasks }) => {
    requireSignedIn(viewer);
    return tasks.taskById(id);
  },
  tasks: async (_parent, { filter, ...args }, { viewer, tasks }) => {
    requireSignedIn(viewer);
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
  project: (_parent, { id }, { viewer, tasks }) => {
    requireSignedIn(viewer);
    return tasks.projectById(id);
  },
  projects: async (_parent, args, { viewer, tasks }) => {
    requireSignedIn(viewer);
    return toConnection(await tasks.listProjects(pageArgs(args)));
  },
};
