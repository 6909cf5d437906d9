import { createContext, useContext } from 'react';
import type { DashboardClient } from '../lib';

export interface DashboardContextValue {
  client: DashboardClient;
  viewerId: string;
  isAdmin: boolean;
  /** A short message in the corner (an action's error or confirmation). */
  notify(message: string, severity?: 'success' | 'error' | 'info'): void;
}

export const DashboardContext = createContext<DashboardContextValue | null>(null);

export function useDashboard(): DashboardContextValue {
  const value = useContext(DashboardContext);
  if (!value) throw new Error('useDashboard outside the signed-in app');
  return value;
}
