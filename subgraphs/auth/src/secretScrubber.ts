import type { Logger } from '@meridian/service-kit';
import type { PrismaClient } from './generated/prisma/client';

/** Outbox event types whose payload carries a secret, and the payload fields that hold it. */
export const SECRET_PAYLOAD_FIELDS = { 'auth.password-reset-requested': ['token'] } as const;

/**
 * Published outbox rows are kept (audit, replay), but a secret has no business staying in them:
 * once the relay marked a row published, its secret fields are removed. Rows still pending keep
 * them (the relay has yet to hand them to the notification service).
 */
export function createPublishedSecretScrubber(prisma: Pick<PrismaClient, '$executeRaw'>, logger: Logger) {
  async function sweep(): Promise<number> {
    let scrubbed = 0;
    for (const [type, fields] of Object.entries(SECRET_PAYLOAD_FIELDS)) {
      for (const field of fields) {
        scrubbed += await prisma.$executeRaw`
          UPDATE outbox_events SET payload = payload - ${field}::text
          WHERE type = ${type} AND published_at IS NOT NULL AND jsonb_exists(payload, ${field}::text)`;
      }
    }
    return scrubbed;
  }
  return {
    sweep,
    /** Sweeps, logging (never throwing) a failure: the next sweep retries. */
    sweepQuietly: () => {
      sweep().catch((error: unknown) => logger.error({ err: error }, 'scrubbing secrets from published outbox rows failed'));
    },
  };
}
