import { envSchemas, loadServiceConfig, type ServiceConfig } from '@meridian/service-kit';
import { z } from 'zod';

const notificationShape = {
  /** smtp://user:pass@host:port (or smtps:// for TLS from the start); unset = no e-mail channel. */
  SMTP_URL: envSchemas
    .url()
    .refine((value) => /^smtps?:$/.test(new URL(value).protocol), 'must be an smtp:// or smtps:// URL')
    .optional(),
  SMTP_FROM: z.string().min(3).default('Meridian <notifications@meridian.local>'),
  /** Where the reset link points; the token is added as the `token` query parameter. */
  PASSWORD_RESET_URL: envSchemas
    .url()
    .refine((value) => /^https?:$/.test(new URL(value).protocol), 'must be an http:// or https:// URL')
    .default('http://127.0.0.1:4000/reset-password'),
  DUE_SOON_WINDOW_MINUTES: z.coerce.number().int().min(1).max(60 * 24 * 30).default(1440),
  /** 0 turns the scheduler off (the check can still be run by calling it). */
  DUE_SOON_CHECK_INTERVAL_MS: z.coerce.number().int().min(0).max(24 * 60 * 60 * 1000).default(60_000),
};

export interface NotificationConfig extends ServiceConfig {
  /** Absent: e-mail deliveries are recorded as SKIPPED. */
  smtp?: { url: string; from: string };
  dueSoon: { windowMs: number; checkIntervalMs: number };
  /** Base URL of password-reset links (PASSWORD_RESET_URL); the token goes in `?token=`. */
  passwordResetUrl: string;
}

/**
 * Notification service configuration: NOTIFICATION_PORT (default 4004), NOTIFICATION_HOST,
 * NOTIFICATION_DATABASE_URL, SMTP_URL, SMTP_FROM, PASSWORD_RESET_URL, DUE_SOON_WINDOW_MINUTES,
 * DUE_SOON_CHECK_INTERVAL_MS and the platform-wide variables, documented in the README.
 */
export function loadNotificationConfig(env: Record<string, string | undefined> = process.env): NotificationConfig {
  const { extra, ...config } = loadServiceConfig('notification', 4004, env, notificationShape);
  return {
    ...config,
    ...(extra.SMTP_URL !== undefined ? { smtp: { url: extra.SMTP_URL, from: extra.SMTP_FROM } } : {}),
    dueSoon: { windowMs: extra.DUE_SOON_WINDOW_MINUTES * 60_000, checkIntervalMs: extra.DUE_SOON_CHECK_INTERVAL_MS },
    passwordResetUrl: extra.PASSWORD_RESET_URL,
  };
}
