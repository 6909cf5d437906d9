import nodemailer from 'nodemailer';
import type { EmailSender } from '../domain/email';

export interface SmtpOptions {
  /** smtp://[user:pass@]host[:port] or smtps://... (TLS from the first byte). */
  url: string;
  /** The From header, e.g. "Meridian <notifications@example.com>". */
  from: string;
}

/** E-mail over SMTP with nodemailer. Timeouts are short so a dead server cannot stall event handling for long. */
export function createSmtpEmailSender(options: SmtpOptions): EmailSender {
  const url = new URL(options.url);
  const secure = url.protocol === 'smtps:';
  const transport = nodemailer.createTransport({
    host: url.hostname,
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    ...(url.username ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } } : {}),
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  return {
    async send(message) {
      await transport.sendMail({ from: options.from, to: message.to, subject: message.subject, text: message.text });
    },
    close() {
      transport.close();
    },
  };
}
