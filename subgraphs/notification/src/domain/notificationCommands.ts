import { notFound } from '@meridian/errors';
import type { SignedInViewer } from '@meridian/tokens';
import {
  preferenceMatrix,
  validateNotificationId,
  validatePreferenceChanges,
  type NotificationRecord,
  type PreferenceRecord,
} from './notification';

/** What the API's use cases need from the database (implemented in src/data). */
export interface NotificationInbox {
  /** Marks it read if it is the recipient's, visible in-app and unread; returns it (read or not), or null when it is not theirs. */
  markRead(id: string, recipientId: string, at: Date): Promise<NotificationRecord | null>;
  markAllRead(recipientId: string, at: Date): Promise<number>;
  storedPreferences(userId: string): Promise<PreferenceRecord[]>;
  savePreferences(userId: string, preferences: readonly PreferenceRecord[]): Promise<void>;
}

/** Users see only their own notifications; every other user's are none of their business. */
export function isOwner(viewer: SignedInViewer, userId: string): boolean {
  return viewer.userId === userId;
}

/** Someone else's id is NOT_FOUND, exactly like an unknown one: existence is not leaked. */
export async function markNotificationRead(inbox: NotificationInbox, viewer: SignedInViewer, rawId: string): Promise<NotificationRecord> {
  const id = validateNotificationId(rawId, 'id');
  const notification = await inbox.markRead(id, viewer.userId, new Date());
  if (!notification) throw notFound('Notification', rawId);
  return notification;
}

export function markAllNotificationsRead(inbox: NotificationInbox, viewer: SignedInViewer): Promise<number> {
  return inbox.markAllRead(viewer.userId, new Date());
}

export async function getNotificationPreferences(inbox: NotificationInbox, userId: string): Promise<PreferenceRecord[]> {
  return preferenceMatrix(await inbox.storedPreferences(userId));
}

export async function updateNotificationPreferences(
  inbox: NotificationInbox,
  viewer: SignedInViewer,
  input: { preferences?: readonly PreferenceRecord[] | null },
): Promise<PreferenceRecord[]> {
  const changes = validatePreferenceChanges(input.preferences);
  await inbox.savePreferences(viewer.userId, changes);
  return getNotificationPreferences(inbox, viewer.userId);
}
