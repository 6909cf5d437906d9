import type { EmailMessage } from './email';
import type { DeliveryStatus } from './notification';

/**
 * The password-reset e-mail (auth.password-reset-requested). It carries a live credential: the
 * link is built here, handed to the sender and never stored or logged. Only the attempt is
 * recorded (status, reason), as an account e-mail: no Notification, never in-app, and sent
 * whatever the recipient's preferences (a reset they asked for is not optional).
 */
export interface PasswordResetRequest {
  userId: string;
  email: string;
  token: string;
  expiresAt: Date;
}

export const SKIPPED_EXPIRED = 'the reset link expired before it could be sent';

/** `base` with the token as its `token` query parameter (other parameters of `base` are kept). */
export function passwordResetLink(base: string, token: string): string {
  const url = new URL(base);
  url.searchParams.set('token', token);
  return url.toString();
}

export function renderPasswordResetEmail(request: PasswordResetRequest, link: string, displayName: string | null): EmailMessage {
  return {
    to: request.email,
    subject: 'Reset your Meridian password',
    text:
      `Hello${displayName ? ` ${displayName}` : ''},\n\n` +
      'Someone asked to reset the password of your Meridian account. To choose a new password, open this link:\n\n' +
      `${link}\n\n` +
      `The link works once and expires at ${request.expiresAt.toISOString()}. ` +
      'If you did not ask for this, ignore this e-mail: your password stays as it is.\n',
  };
}

/** What happens to a reset e-mail when its event is handled: queued for sending after the commit, or skipped with a reason. */
export function initialResetStatus(
  request: Pick<PasswordResetRequest, 'expiresAt'>,
  now: Date,
  emailConfigured: boolean,
  noSmtpReason: string,
): { status: Extract<DeliveryStatus, 'PENDING' | 'SKIPPED'>; error: string | null } {
  if (!emailConfigured) return { status: 'SKIPPED', error: noSmtpReason };
  if (request.expiresAt.getTime() <= now.getTime()) return { status: 'SKIPPED', error: SKIPPED_EXPIRED };
  return { status: 'PENDING', error: null };
}
