import type { Role } from '@meridian/tokens';

/**
 * What each role may do, as token scopes. The auth service writes `scopesForRoles(roles)` into
 * every access token's `scope` claim; `@requiresScopes` in the SDLs checks that claim.
 */
export const ROLE_SCOPES = {
  ADMIN: ['tasks:read', 'tasks:write', 'users:read', 'users:admin'],
  MEMBER: ['tasks:read', 'tasks:write', 'users:read'],
  VIEWER: ['tasks:read', 'users:read'],
} as const satisfies Record<Role, readonly string[]>;

export type Scope = (typeof ROLE_SCOPES)[Role][number];

export const ROLES = Object.keys(ROLE_SCOPES) as Role[];

/** Every scope some role grants; `@requiresScopes` may only name these. */
export const KNOWN_SCOPES: ReadonlySet<string> = new Set(Object.values(ROLE_SCOPES).flat());

/** The sorted, de-duplicated scopes of a set of roles (unknown roles grant nothing). */
export function scopesForRoles(roles: readonly string[]): string[] {
  return [...new Set(roles.flatMap((role) => (ROLE_SCOPES as Record<string, readonly string[]>)[role] ?? []))].sort();
}
