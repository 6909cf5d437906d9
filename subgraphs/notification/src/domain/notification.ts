import { badUserInput } from '@meridian/errors';

export const NOTIFICATION_KINDS = ['TASK_ASSIGNED', 'TASK_STATUS_CHANGED', 'TASK_COMMENTED', 'TASK_DUE_SOON'] as const;
export const NOTIFICATION_CHANNELS = ['IN_APP', 'EMAIL'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];
export type NotificationChannel = (typeof NOTIFICATION_CHANNELS)[number];
export type DeliveryStatus = 'PENDING' | 'SENT' | 'FAILED' | 'SKIPPED';

/**
 * Kinds whose in-app notification cannot be turned off (security-relevant ones, e.g. a new
 * sign-in, would go here). None of today's kinds is; the rule is enforced by validation.
 */
export const ALWAYS_IN_APP_KINDS: ReadonlySet<NotificationKind> = new Set<NotificationKind>();

/** A notification as the rules see it (the data layer's rows have this shape). */
export interface NotificationRecord {
  id: string;
  recipientId: string;
  kind: NotificationKind;
  title: string;
  body: string;
  taskId: string | null;
  dueAt: Date | null;
  inApp: boolean;
  readAt: Date | null;
  createdAt: Date;
}

/** What a rule decided someone should be told; channels and the id are decided when it is stored. */
export interface NotificationDraft {
  recipientId: string;
  kind: NotificationKind;
  title: string;
  body: string;
  taskId: string | null;
  /** TASK_DUE_SOON only: with taskId, kind and recipient, the key that makes the reminder once-only. */
  dueAt?: Date;
}

export interface PreferenceRecord {
  kind: NotificationKind;
  channel: NotificationChannel;
  enabled: boolean;
}

/** Every kind × channel, with the stored choices applied over the default (enabled). */
export function preferenceMatrix(stored: readonly PreferenceRecord[]): PreferenceRecord[] {
  const byKey = new Map(stored.map((preference) => [`${preference.kind}:${preference.channel}`, preference.enabled]));
  return NOTIFICATION_KINDS.flatMap((kind) =>
    NOTIFICATION_CHANNELS.map((channel) => ({ kind, channel, enabled: byKey.get(`${kind}:${channel}`) ?? true })),
  );
}

export function isEnabled(stored: readonly PreferenceRecord[], kind: NotificationKind, channel: NotificationChannel): boolean {
  if (channel === 'IN_APP' && ALWAYS_IN_APP_KINDS.has(kind)) return true;
  return stored.find((preference) => preference.kind === kind && preference.channel === channel)?.enabled ?? true;
}

const MAX_PREFERENCE_CHANGES = NOTIFICATION_KINDS.length * NOTIFICATION_CHANNELS.length;

/** Checks a list of preference changes: not empty, each kind × channel once, nothing that may not be turned off. */
export function validatePreferenceChanges(preferences: readonly PreferenceRecord[] | null | undefined): PreferenceRecord[] {
  const field = 'input.preferences';
  if (!preferences || preferences.length === 0) throw badUserInput(field, 'give at least one preference.');
  if (preferences.length > MAX_PREFERENCE_CHANGES) throw badUserInput(field, `give at most ${MAX_PREFERENCE_CHANGES} preferences.`);
  const seen = new Set<string>();
  return preferences.map((preference, index) => {
    const key = `${preference.kind}:${preference.channel}`;
    if (seen.has(key)) throw badUserInput(`${field}[${index}]`, `${preference.kind} on ${preference.channel} is listed twice.`);
    seen.add(key);
    if (preference.enabled === null || preference.enabled === undefined) throw badUserInput(`${field}[${index}].enabled`, 'is required.');
    if (!preference.enabled && preference.channel === 'IN_APP' && ALWAYS_IN_APP_KINDS.has(preference.kind)) {
      throw badUserInput(`${field}[${index}].enabled`, `in-app ${preference.kind} notifications cannot be turned off.`);
    }
    return { kind: preference.kind, channel: preference.channel, enabled: preference.enabled };
  });
}

/** Ids are ULIDs made here; anything else cannot name a notification. */
export function validateNotificationId(value: string, field: string): string {
  if (!/^[0-9A-HJKMNP-TV-Z]{26}$/i.test(value)) throw badUserInput(field, 'is not a valid notification id.');
  return value.toUpperCase();
}

export function validateUnreadOnly(value: boolean | null | undefined): boolean {
  return value ?? false;
}
