import { forbidden } from '@meridian/errors';
import { hasRole, type SignedInViewer } from '@meridian/tokens';

/** Per-user breakdowns (other people's figures) are for admins. */
export function assertMayReadUserBreakdowns(viewer: SignedInViewer): void {
  if (!hasRole(viewer, 'ADMIN')) throw forbidden('Only admins may see per-user statistics.');
}

/** Everyone may see their own statistics; admins may see anyone's. */
export function assertMayReadUserStats(viewer: SignedInViewer, userId: string): void {
  if (viewer.userId !== userId && !hasRole(viewer, 'ADMIN')) throw forbidden("Only admins may see another user's statistics.");
}
