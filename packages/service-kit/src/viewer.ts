import { unauthenticated } from '@meridian/errors';
import { isSignedIn, type SignedInViewer, type Viewer } from '@meridian/tokens';

/** Resolvers that need a signed-in user call this first. */
export function requireSignedIn(viewer: Viewer): SignedInViewer {
  if (!isSignedIn(viewer)) throw unauthenticated();
  return viewer;
}
