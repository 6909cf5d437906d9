import { startSubgraphService, type Logger, type PlatformEventBus, type ServiceHandle } from '@meridian/service-kit';
import { PrismaClient } from './generated/prisma/client';
import type { NotificationConfig } from './config';
import { createDueSoonStore } from './data/notificationStore';
import { runDueSoonCheck } from './domain/dueSoon';
import { startDueSoonScheduler } from './dueSoonScheduler';
import { subscribeNotificationEventHandlers } from './events';
import { createNotificationSubgraph } from './server';

export interface NotificationServiceHandle extends ServiceHandle {
  /**
   * One due-soon check as the scheduler runs it, for `now` (default: the current time); also
   * retries e-mails left PENDING by a crashed process. Returns the number of reminders created.
   */
  runDueSoonCheck(now?: Date): Promise<number>;
}

export interface StartNotificationServiceOptions {
  config: NotificationConfig;
  bus?: PlatformEventBus;
  logger?: Logger;
  /** Diagnostics: called with every SQL statement the service sends (tests count queries with it). */
  onQuery?: (sql: string) => void;
}

/** Starts the notification service: database, outbox relay, event handlers, e-mail, due-soon scheduler, HTTP. */
export async function startNotificationService(options: StartNotificationServiceOptions): Promise<NotificationServiceHandle> {
  const { config } = options;
  let check: ((now: Date) => Promise<number>) | undefined;
  const handle = await startSubgraphService({
    ...options,
    createPrisma: (adapter) => {
      if (!options.onQuery) return new PrismaClient({ adapter });
      const prisma = new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] });
      const onQuery = options.onQuery;
      prisma.$on('query', (event) => onQuery(event.query));
      return prisma as unknown as PrismaClient;
    },
    build: async ({ prisma, bus, verifier, logger, stack }) => {
      // nodemailer is loaded only when an SMTP server is configured (the embedded default has none).
      const emailSender = config.smtp ? (await import('./email/smtpEmailSender')).createSmtpEmailSender(config.smtp) : undefined;
      if (emailSender) stack.defer('e-mail', () => emailSender.close());
      const handlers = await subscribeNotificationEventHandlers({
        prisma,
        bus,
        logger,
        passwordResetUrl: config.passwordResetUrl,
        ...(emailSender ? { emailSender } : {}),
      });
      stack.defer('event handlers', () => handlers.close());

      const store = createDueSoonStore(prisma);
      check = (now) =>
        runDueSoonCheck(store, now, {
          windowMs: config.dueSoon.windowMs,
          emailConfigured: emailSender !== undefined,
          ...(emailSender ? { sender: emailSender } : {}),
          onEmailFailure: (deliveryId, error) => logger.warn({ deliveryId, error }, 'notification e-mail failed'),
        });
      const scheduler = startDueSoonScheduler({
        intervalMs: config.dueSoon.checkIntervalMs,
        check,
        onError: (error) => logger.error({ err: error }, 'due-soon check failed'),
      });
      stack.defer('due-soon scheduler', () => scheduler.stop());
      return createNotificationSubgraph({ prisma, bus, verifier, logger, production: config.production });
    },
  });
  return {
    ...handle,
    runDueSoonCheck: (now = new Date()) => {
      if (!check) throw new Error('notification service is not started');
      return check(now);
    },
  };
}
