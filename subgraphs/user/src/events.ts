import { handleOnce, writeOutbox, type EventBus, type Subscription } from '@meridian/event-bridge';
import { createDomainEvent, type DomainEvent } from '@meridian/domain-events';
import type { Logger } from '@meridian/service-kit';
import type { PrismaClient } from './generated/prisma/client';
import { applyRoles, createProfileIfMissing } from './data/userRepository';

export const USER_CONSUMER_GROUP = 'user';

/**
 * The user subgraph consumes, in the consumer group `user`:
 * - `auth.user-registered`: creates the profile and publishes `user.profile-created` in the same
 *   transaction, so the auth service can tell sign-up callers that the profile exists;
 * - `auth.roles-changed`: sets the profile's roles (kept as pending when the profile does not
 *   exist yet, and taken over when it is created).
 * Each event is applied with handleOnce (inbox row in the same transaction): a redelivered
 * event changes nothing. One user's events are delivered in order (same aggregate).
 */
export async function subscribeUserEventHandlers(deps: {
  prisma: PrismaClient;
  bus: EventBus<DomainEvent>;
  afterCommit: () => void;
  logger: Logger;
}): Promise<Subscription> {
  return deps.bus.subscribe({
    group: USER_CONSUMER_GROUP,
    types: ['auth.user-registered', 'auth.roles-changed'],
    handler: async (event) => {
      switch (event.type) {
        case 'auth.user-registered': {
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
          return;
        }
        case 'auth.roles-changed': {
          const { userId, roles } = event.payload;
          const outcome = await handleOnce(deps.prisma, USER_CONSUMER_GROUP, event, (tx) =>
            applyRoles(tx, { userId, roles, eventId: event.id }),
          );
          if (outcome.handled) deps.logger.debug({ eventId: event.id, userId, roles, outcome: outcome.result }, 'roles changed');
          return;
        }
        default:
          return;
      }
    },
  });
}
