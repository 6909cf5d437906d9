import { GraphQLError } from 'graphql';
import type { CommentResolvers } from '../generated/resolvers-types';

export const Comment: CommentResolvers = {
  // Batched like Task references: N comment references, one query.
  __resolveReference: (reference, { tasks }) => {
    return tasks.commentById(reference.id);
  },
  author: (comment) => ({ __typename: 'User', id: comment.authorId }),
  task: async (comment, _args, { tasks }) => {
    // Comments are deleted with their task, so a missing task is a bug, not a state to show.
    const task = await tasks.taskById(comment.taskId);
    if (!task) throw new GraphQLError(`Task ${comment.taskId} of comment ${comment.id} does not exist.`);
    return task;
  },
};
