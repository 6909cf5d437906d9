import { badUserInput } from '@meridian/errors';

export const DISPLAY_NAME_MAX = 80;
export const AVATAR_URL_MAX = 2048;

export interface ProfileChanges {
  displayName?: string;
  avatarUrl?: string | null;
}

/** Validates and normalises a profile update; throws BAD_USER_INPUT naming the field. */
export function validateProfileChanges(input: { displayName?: string | null; avatarUrl?: string | null }): ProfileChanges {
  const changes: ProfileChanges = {};
  if (input.displayName !== undefined) {
    if (input.displayName === null) throw badUserInput('input.displayName', 'cannot be null.');
    const displayName = input.displayName.trim();
    if (displayName.length < 1 || displayName.length > DISPLAY_NAME_MAX) {
      throw badUserInput('input.displayName', `must be 1 to ${DISPLAY_NAME_MAX} characters.`);
    }
    changes.displayName = displayName;
  }
  if (input.avatarUrl !== undefined) {
    if (input.avatarUrl === null || input.avatarUrl === '') {
      changes.avatarUrl = null;
    } else {
      if (input.avatarUrl.length > AVATAR_URL_MAX) throw badUserInput('input.avatarUrl', `must be at most ${AVATAR_URL_MAX} characters.`);
      let url: URL;
      try {
        url = new URL(input.avatarUrl);
      } catch {
        throw badUserInput('input.avatarUrl', 'must be an absolute https URL.');
      }
      if (url.protocol !== 'https:') throw badUserInput('input.avatarUrl', 'must be an absolute https URL.');
      changes.avatarUrl = url.toString();
    }
  }
  if (Object.keys(changes).length === 0) throw badUserInput('input', 'nothing to change: give displayName or avatarUrl.');
  return changes;
}
