import { DateTime } from '@meridian/service-kit';
import type { Resolvers } from '../generated/resolvers-types';
import { DashboardStats } from './DashboardStats';
import { Query } from './Query';
import { Subscription } from './Subscription';
import { User } from './User';
import { UserStats } from './UserStats';

export const resolvers: Resolvers = { Query, Subscription, DashboardStats, User, UserStats, DateTime };
