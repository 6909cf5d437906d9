import { DateTime } from '@meridian/service-kit';
import type { Resolvers } from '../generated/resolvers-types';
import { DashboardStats } from './DashboardStats';
import { Query } from './Query';
import { User } from './User';
import { UserStats } from './UserStats';

export const resolvers: Resolvers = { Query, DashboardStats, User, UserStats, DateTime };
