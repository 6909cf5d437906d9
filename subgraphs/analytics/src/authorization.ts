import type { Policy } from '@meridian/authorization';
import type { Context } from './context';

/** The analytics subgraph's `@policy` rules. */
export const analyticsPolicies: Record<string, Policy<Context>> = {
  // A user's own figures, or anyone's for a caller with the users:admin scope (ADMIN).
  'self-or-admin': ({ viewer, parent }) => (parent as { id: string }).id === viewer.userId || viewer.scopes.includes('users:admin'),
};
