/** An e-mail as the notification rules write it; the transport (SMTP) is chosen by the composition root. */
export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface EmailSender {
  /** Resolves once the server accepted the message; throws with the server's reason otherwise. */
  send(message: EmailMessage): Promise<void>;
  close(): Promise<void> | void;
}

export function renderEmail(to: string, displayName: string, notification: { title: string; body: string }): EmailMessage {
  return {
    to,
    subject: notification.title,
    text: `Hello ${displayName},\n\n${notification.body}\n\nYou can choose which e-mails you get in your notification preferences.\n`,
  };
}
