import { DateTime } from '@meridian/service-kit';
import type { Resolvers } from '../generated/resolvers-types';
import { Comment } from './Comment';
import { Mutation } from './Mutation';
import { Project } from './Project';
import { Query } from './Query';
import { Subscription } from './Subscription';
import { Task } from './Task';
import { User } from './User';

export const resolvers: Resolvers = { Query, Mutation, Subscription, Task, Project, Comment, User, DateTime };
