/** Who is calling, as established from a verified access token. */
export type Role = 'ADMIN' | 'MEMBER' | 'VIEWER';

export interface SignedInViewer {
  kind: 'user';
  userId: string;
  roles: Role[];
  scopes: string[];
  /** The token's `jti`, for audit and revocation. */
  tokenId: string;
  /** The session (`sid`) the token was issued for, when the issuer sets one. */
  sessionId?: string;
  /** Seconds since epoch. */
  expiresAt: number;
}

export interface AnonymousViewer {
  kind: 'anonymous';
}

export type Viewer = SignedInViewer | AnonymousViewer;

export const anonymousViewer: AnonymousViewer = Object.freeze({ kind: 'anonymous' });

export function isSignedIn(viewer: Viewer): viewer is SignedInViewer {
  return viewer.kind === 'user';
}

export function hasRole(viewer: Viewer, role: Role): boolean {
  return isSignedIn(viewer) && viewer.roles.includes(role);
}
