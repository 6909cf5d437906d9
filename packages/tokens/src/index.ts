export { createTokenVerifier, ACCESS_TOKEN_ALGORITHM, type TokenVerifier, type TokenVerifierOptions } from './verifier';
export {
  anonymousViewer,
  isSignedIn,
  hasRole,
  type Viewer,
  type SignedInViewer,
  type AnonymousViewer,
  type Role,
} from './viewer';
