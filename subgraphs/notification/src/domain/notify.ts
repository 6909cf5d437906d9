import { renderEmail, type EmailMessage, type EmailSender } from './email';
import { newId } from './ids';
import { isEnabled, type DeliveryStatus, type NotificationChannel, type NotificationDraft, type PreferenceRecord } from './notification';

export interface NewDelivery {
  id: string;
  notificationId: string;
  channel: NotificationChannel;
  status: DeliveryStatus;
  error: string | null;
}

/** What storing notifications may do inside one database transaction (implemented in src/data). */
export interface NotificationWriter {
  storedPreferences(userId: string): Promise<PreferenceRecord[]>;
  contactOf(userId: string): Promise<{ email: string; displayName: string } | null>;
  /** Inserts unless a notification with the same once-only key exists; false = it existed, nothing written. */
  insertNotification(notification: NotificationDraft & { id: string; inApp: boolean }): Promise<boolean>;
  insertDeliveries(deliveries: readonly NewDelivery[]): Promise<void>;
}

/** An e-mail delivery committed as PENDING, to be sent after the commit. */
export interface PendingEmail {
  deliveryId: string;
  message: EmailMessage;
}

export interface DeliveryRecorder {
  recordOutcome(deliveryId: string, status: Exclude<DeliveryStatus, 'PENDING'>, error: string | null): Promise<void>;
}

export const SKIPPED_BY_RECIPIENT = 'turned off by the recipient';
export const SKIPPED_NO_SMTP = 'no SMTP server configured';
export const SKIPPED_NO_ADDRESS = 'no e-mail address known for the recipient';
/**
 * The reason on a PENDING e-mail whose recipient's address is not known yet: `auth.user-registered`
 * and task events come from different sources, which the bus does not order against each other.
 * The registration (or, at the latest, the next due-soon check) sends it; after
 * AWAITING_ADDRESS_MS it is SKIPPED with SKIPPED_NO_ADDRESS.
 */
export const AWAITING_ADDRESS = "waiting for the recipient's e-mail address";
/** How long an e-mail waits for its recipient's address before it is given up (24 hours). */
export const AWAITING_ADDRESS_MS = 24 * 60 * 60 * 1000;

/**
 * Stores each draft as a notification with one delivery row per channel, following the
 * recipient's preferences. Nothing is stored for someone who turned both channels off.
 * E-mails are only queued (PENDING): they are sent after the transaction commits, never
 * inside it (a rolled-back transaction must not have sent mail, and SMTP must not hold locks).
 * One for a recipient whose address is not known yet waits for it (AWAITING_ADDRESS).
 */
export async function storeNotifications(
  tx: NotificationWriter,
  drafts: readonly NotificationDraft[],
  options: { emailConfigured: boolean },
): Promise<{ created: number; emails: PendingEmail[] }> {
  const emails: PendingEmail[] = [];
  let created = 0;
  for (const draft of drafts) {
    const preferences = await tx.storedPreferences(draft.recipientId);
    const inApp = isEnabled(preferences, draft.kind, 'IN_APP');
    const email = isEnabled(preferences, draft.kind, 'EMAIL');
    if (!inApp && !email) continue;
    const notificationId = newId();
    if (!(await tx.insertNotification({ ...draft, id: notificationId, inApp }))) continue;
    created++;
    const inAppDelivery: NewDelivery = {
      id: newId(),
      notificationId,
      channel: 'IN_APP',
      status: inApp ? 'SENT' : 'SKIPPED',
      error: inApp ? null : SKIPPED_BY_RECIPIENT,
    };
    const emailDelivery: NewDelivery = { id: newId(), notificationId, channel: 'EMAIL', status: 'SKIPPED', error: null };
    if (!email) emailDelivery.error = SKIPPED_BY_RECIPIENT;
    else if (!options.emailConfigured) emailDelivery.error = SKIPPED_NO_SMTP;
    else {
      const contact = await tx.contactOf(draft.recipientId);
      emailDelivery.status = 'PENDING';
      if (!contact) emailDelivery.error = AWAITING_ADDRESS;
      else emails.push({ deliveryId: emailDelivery.id, message: renderEmail(contact.email, contact.displayName, draft) });
    }
    await tx.insertDeliveries([inAppDelivery, emailDelivery]);
  }
  return { created, emails };
}

/**
 * Sends queued e-mails one by one and records each outcome. A refused or unreachable server
 * is recorded as FAILED with its reason and never thrown: the in-app notification stands.
 */
export async function sendEmails(
  recorder: DeliveryRecorder,
  sender: EmailSender | undefined,
  emails: readonly PendingEmail[],
  onFailure?: (deliveryId: string, error: string) => void,
): Promise<void> {
  for (const email of emails) {
    if (!sender) {
      await recorder.recordOutcome(email.deliveryId, 'SKIPPED', SKIPPED_NO_SMTP);
      continue;
    }
    try {
      await sender.send(email.message);
      await recorder.recordOutcome(email.deliveryId, 'SENT', null);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      onFailure?.(email.deliveryId, reason);
      await recorder.recordOutcome(email.deliveryId, 'FAILED', reason.slice(0, 1000));
    }
  }
}
