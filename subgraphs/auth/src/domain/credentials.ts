import { badUserInput } from '@meridian/errors';

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;
export const DISPLAY_NAME_MAX_LENGTH = 80;
const EMAIL_MAX_LENGTH = 254;
// Deliberately simple: one @, something on each side, a dot in the domain, no spaces.
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function normalizeEmail(email: string, field = 'input.email'): string {
  const normalized = email.trim().toLowerCase();
  if (normalized.length > EMAIL_MAX_LENGTH || !EMAIL_PATTERN.test(normalized)) {
    throw badUserInput(field, 'must be a valid email address.');
  }
  return normalized;
}

export function validatePassword(password: string, field = 'input.password'): string {
  // Length in characters (code points), so non-ASCII passphrases are not penalised.
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) throw badUserInput(field, `must be at least ${PASSWORD_MIN_LENGTH} characters.`);
  if (length > PASSWORD_MAX_LENGTH) throw badUserInput(field, `must be at most ${PASSWORD_MAX_LENGTH} characters.`);
  return password;
}

export function validateDisplayName(displayName: string, field = 'input.displayName'): string {
  const trimmed = displayName.trim();
  if (trimmed.length < 1 || trimmed.length > DISPLAY_NAME_MAX_LENGTH) {
    throw badUserInput(field, `must be 1 to ${DISPLAY_NAME_MAX_LENGTH} characters.`);
  }
  return trimmed;
}

export function validateSignUp(input: { email: string; password: string; displayName: string }) {
  return {
    email: normalizeEmail(input.email),
    password: validatePassword(input.password),
    displayName: validateDisplayName(input.displayName),
  };
}
