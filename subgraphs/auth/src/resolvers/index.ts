import { DateTime } from '@meridian/service-kit';
import type { Resolvers } from '../generated/resolvers-types';
import { Mutation } from './Mutation';
import { Query } from './Query';
import { Session } from './Session';
import { User } from './User';

export const resolvers: Resolvers = { Query, Mutation, User, Session, DateTime };
