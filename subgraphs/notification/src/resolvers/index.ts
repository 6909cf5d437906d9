import { DateTime } from '@meridian/service-kit';
import type { Resolvers } from '../generated/resolvers-types';
import { Mutation } from './Mutation';
import { Notification } from './Notification';
import { Query } from './Query';
import { Subscription } from './Subscription';
import { User } from './User';

export const resolvers: Resolvers = { Query, Mutation, Subscription, Notification, User, DateTime };
