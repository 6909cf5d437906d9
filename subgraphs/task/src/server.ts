import path from 'node:path';
import { createEventReadCache, createSubgraphServer, readSchema, type Logger, type PlatformEventBus, type SubgraphServer } from '@meridian/service-kit';
import type { TokenVerifier } from '@meridian/tokens';
import type { PrismaClient } from './generated/prisma/client';
import { createTaskRepository } from './data/taskRepository';
import { resolvers } from './resolvers';
import { authorizeResolvers } from '@meridian/authorization';
import { taskPolicies } from './authorization';

export const TASK_SCHEMA_PATH = path.join(__dirname, 'schema.graphql');

export interface TaskSubgraphDeps {
  prisma: PrismaClient;
  verifier: TokenVerifier;
  bus: PlatformEventBus;
  logger: Logger;
  production?: boolean;
  /** Called after each committed change; the service passes the outbox relay's notify(). */
  afterCommit?: () => void;
}

/** Builds the task subgraph's HTTP server; does not listen. */
export function createTaskSubgraph(deps: TaskSubgraphDeps): SubgraphServer {
  const typeDefs = readSchema(TASK_SCHEMA_PATH);
  // Every subscription streaming one event shares one read of its task (tasks are visible to
  // every signed-in user, so the row does not depend on the viewer).
  const eventReads = createEventReadCache();
  return createSubgraphServer({
    name: 'task',
    typeDefs,
    // The SDL's @authenticated / @requiresScopes / @policy decide who may resolve what.
    resolvers: authorizeResolvers({ typeDefs, resolvers: resolvers as Record<string, unknown>, policies: taskPolicies }),
    verifier: deps.verifier,
    logger: deps.logger,
    production: deps.production,
    // A repository per request: its DataLoaders must not cache across users or requests.
    createContext: (base) => ({
      ...base,
      tasks: createTaskRepository(deps.prisma, { afterCommit: deps.afterCommit }),
      bus: deps.bus,
      loadTaskForEvent: (eventId: string, taskId: string) => eventReads.read(eventId, `task:${taskId}`, () => createTaskRepository(deps.prisma).taskById(taskId)),
    }),
    isReady: async () => {
      await deps.prisma.$queryRaw`SELECT 1`;
    },
  });
}
