import type { EmailSender } from './email';
import { AWAITING_ADDRESS_MS, sendEmails, storeNotifications, type DeliveryRecorder, type NotificationWriter, type PendingEmail } from './notify';
import { dueSoonNotification } from './taskNotifications';

export interface DueTask {
  id: string;
  title: string;
  dueAt: Date;
  createdById: string;
  assigneeId: string | null;
}

/** What the due-soon check needs from the database (implemented in src/data). */
export interface DueSoonStore extends DeliveryRecorder {
  /** Tasks of the projection due in (from, to] that are not DONE. */
  tasksDueBetween(from: Date, to: Date): Promise<DueTask[]>;
  /** Runs `work` in one transaction. */
  transaction<T>(work: (tx: NotificationWriter) => Promise<T>): Promise<T>;
  /**
   * Claims e-mail deliveries still PENDING since before `cutoff` (their sender died) for one more
   * try, and those waiting for an address that is now known.
   */
  claimStrandedEmails(cutoff: Date): Promise<PendingEmail[]>;
  /** E-mails still waiting for their recipient's address since before `cutoff` become SKIPPED; returns how many. */
  expireAwaitingEmails(cutoff: Date): Promise<number>;
}

export interface DueSoonOptions {
  windowMs: number;
  emailConfigured: boolean;
  sender?: EmailSender;
  /** PENDING e-mails older than this are retried by the check (default 2 minutes). */
  strandedAfterMs?: number;
  /** E-mails waiting longer than this for their recipient's address are given up (default AWAITING_ADDRESS_MS). */
  awaitingAddressMs?: number;
  onEmailFailure?: (deliveryId: string, error: string) => void;
}

/**
 * One tick of the reminder scheduler: a TASK_DUE_SOON notification for every task due within
 * the window and not DONE, once per task, due date and recipient. Several replicas may run it
 * at the same moment: the once-only key is a unique constraint, so only one insert wins and the
 * others write nothing. Returns the number of reminders this call created.
 */
export async function runDueSoonCheck(store: DueSoonStore, now: Date, options: DueSoonOptions): Promise<number> {
  const tasks = await store.tasksDueBetween(now, new Date(now.getTime() + options.windowMs));
  let created = 0;
  const emails: PendingEmail[] = [];
  for (const task of tasks) {
    // One transaction per reminder: a conflict on one task does not undo the others.
    const result = await store.transaction((tx) =>
      storeNotifications(tx, [dueSoonNotification(task)], { emailConfigured: options.emailConfigured }),
    );
    created += result.created;
    emails.push(...result.emails);
  }
  // Real elapsed time, not `now`: a check run for a simulated moment must not claim mail still being sent.
  const stranded = await store.claimStrandedEmails(new Date(Date.now() - (options.strandedAfterMs ?? 120_000)));
  await store.expireAwaitingEmails(new Date(Date.now() - (options.awaitingAddressMs ?? AWAITING_ADDRESS_MS)));
  await sendEmails(store, options.sender, [...emails, ...stranded], options.onEmailFailure);
  return created;
}
