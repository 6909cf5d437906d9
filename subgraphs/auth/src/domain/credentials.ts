import { readFileSync } from 'node:fs';
import path from 'node:path';
import { badUserInput } from '@meridian/errors';

export const PASSWORD_MIN_LENGTH = 12;
/** With MFA on, a shorter password is acceptable (NIST SP 800-63B's floor). */
export const PASSWORD_MIN_LENGTH_WITH_MFA = 8;
/** In UTF-8 bytes: long passphrases are welcome, megabytes sent to argon2 are not. */
export const PASSWORD_MAX_BYTES = 1024;
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

/**
 * Lower-cased entries of well-known lists of the most used (breached) passwords. A compact
 * list shipped with the service; see the README for how it was made and how to extend it.
 */
const COMMON_PASSWORDS: ReadonlySet<string> = new Set(
  readFileSync(path.join(__dirname, 'commonPasswords.txt'), 'utf8')
    .split('\n')
    .map((line) => line.trim().toLowerCase())
    .filter(Boolean),
);

/** True for a password on the common list, or one of them with digits/symbols around it ("Password2024!"). */
export function isCommonPassword(password: string): boolean {
  const lower = password.toLowerCase();
  if (COMMON_PASSWORDS.has(lower)) return true;
  const core = lower.replace(/^[\d\W_]+|[\d\W_]+$/gu, '');
  if (core.length >= 4 && COMMON_PASSWORDS.has(core)) return true;
  // One character repeated ("aaaaaaaaaaaa") is as weak as anything on the list.
  return new Set(lower).size <= 2;
}

/** Rejects a password over 1 KB before anything costly (argon2, database) happens. */
export function checkPasswordSize(password: string, field = 'input.password'): string {
  if (Buffer.byteLength(password, 'utf8') > PASSWORD_MAX_BYTES) {
    throw badUserInput(field, `must be at most ${PASSWORD_MAX_BYTES} bytes (UTF-8).`);
  }
  return password;
}

export function validatePassword(password: string, field = 'input.password', options: { mfaEnabled?: boolean; email?: string } = {}): string {
  checkPasswordSize(password, field);
  const min = options.mfaEnabled ? PASSWORD_MIN_LENGTH_WITH_MFA : PASSWORD_MIN_LENGTH;
  // Length in characters (code points), so non-ASCII passphrases are not penalised.
  if ([...password].length < min) throw badUserInput(field, `must be at least ${min} characters.`);
  if (isCommonPassword(password) || (options.email !== undefined && password.trim().toLowerCase() === options.email)) {
    throw badUserInput(field, 'is too common or easy to guess; choose another (a few unrelated words work well).');
  }
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
  const email = normalizeEmail(input.email);
  return {
    email,
    password: validatePassword(input.password, 'input.password', { email }),
    displayName: validateDisplayName(input.displayName),
  };
}
