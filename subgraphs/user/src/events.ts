import { handleOnce, writeOutbox, type EventBus, type Subscription } from '@meridian/event-bridge';
import { createDomainEvent, type DomainEvent } from '@meridian/domain-events';
import type { Logger } from '@meridian/service-kit';
import type { PrismaClient } from './generated/prisma/client';
import { createProfileIfMissing } from './data/userRepository';

export const USER_CONSUMER_GROUP = 'user';

/**
 * The user subgraph consumes `auth.user-registered` (creates the profile) and publishes
 * `user.profile-created` in the same transaction, so the auth service can tell sign-up
 * callers that the profile exists.
 */
export async function subscribeUserEventHandlers(deps: {
  prisma: PrismaClient;
  bus: EventBus<DomainEvent>;
  afterCommit: () => void;
  logger: Logger;
}): Promise<Subscription> {
  return deps.bus.subscribe({
    group: USER_CONSUMER_GROUP,
    types: ['auth.user-registered'],
    handler: async (event) => {
      await handleOnce(deps.prisma, USER_CONSUMER_GROUP, event, async (tx) => {
        const { userId, email, displayName } = event.payload;
        const { created } = await createProfileIfMissing(tx, { id: userId, email, displayName });
        if (created) {
          await writeOutbox(tx, [
            createDomainEvent('user.profile-created', { source: 'user', aggregateId: userId, payload: { userId } }),
          ]);
        }
      });
      deps.afterCommit();
      deps.logger.debug({ eventId: event.id, userId: event.payload.userId }, 'profile provisioned');
    },
  });
}
