import type { Policy } from '@meridian/authorization';
import type { Context } from './context';
import { mayChangeTask } from './domain/task';
import { mayDeleteComment } from './domain/comment';

/**
 * The task subgraph's `@policy` rules. "Own" task: the caller created it or is its assignee
 * (ADMINs may change any). An unknown id passes here so that the resolver answers NOT_FOUND.
 */
export const taskPolicies: Record<string, Policy<Context>> = {
  'task:change': async ({ viewer, args, context }) => {
    const task = await context.tasks.taskById(String(args.id));
    return !task || mayChangeTask(viewer, task);
  },
  'comment:delete': async ({ viewer, args, context }) => {
    const comment = await context.tasks.commentById(String(args.id));
    return !comment || mayDeleteComment(viewer, comment);
  },
};
