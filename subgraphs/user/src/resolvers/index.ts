import type { Resolvers } from '../generated/resolvers-types';
import { Query } from './Query';
import { Mutation } from './Mutation';
import { User } from './User';
import { DateTime } from '@meridian/service-kit';

export const resolvers: Resolvers = { Query, Mutation, User, DateTime };
