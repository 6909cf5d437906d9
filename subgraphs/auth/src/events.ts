import { writeOutbox, type EventBus, type Subscription } from '@meridian/event-bridge';
import { createDomainEvent, type DomainEvent, type Role } from '@meridian/domain-events';
import type { Logger } from '@meridian/service-kit';
import type { PasswordResetMessage, Registration, RolesChange } from './domain/authService';

/** The transaction client the auth store hands to event writers. */
type OutboxTx = Parameters<typeof writeOutbox>[0];

/** `auth.user-registered`, written in the account's transaction. */
export async function recordRegistration(tx: unknown, registration: Registration): Promise<void> {
  await writeOutbox(tx as OutboxTx, [
    createDomainEvent('auth.user-registered', {
      source: 'auth',
      aggregateId: registration.userId,
      payload: registration,
    }),
  ]);
}

/** `auth.signed-in`, written in the new session's transaction. */
export async function recordSignIn(tx: unknown, signIn: { userId: string; sessionId: string }): Promise<void> {
  await writeOutbox(tx as OutboxTx, [
    createDomainEvent('auth.signed-in', { source: 'auth', aggregateId: signIn.userId, payload: signIn }),
  ]);
}

/**
 * Hands a password-reset token to the notification service (`auth.password-reset-requested`),
 * in the token's transaction: the e-mail goes out if and only if the token exists. The payload
 * holds the raw token: it is never logged here (nor by the relay, which logs no payloads).
 */
export function createPasswordResetDelivery() {
  return async (tx: unknown, message: PasswordResetMessage): Promise<void> => {
    await writeOutbox(tx as OutboxTx, [
      createDomainEvent('auth.password-reset-requested', {
        source: 'auth',
        aggregateId: message.userId,
        payload: { userId: message.userId, email: message.email, token: message.token, expiresAt: message.expiresAt.toISOString() },
      }),
    ]);
  };
}

/**
 * Tells the user subgraph that roles changed (`auth.roles-changed`), in the change's
 * transaction. The domain has already checked the roles; the catalogue schema checks again.
 */
export async function recordRolesChanged(tx: unknown, change: RolesChange): Promise<void> {
  await writeOutbox(tx as OutboxTx, [
    createDomainEvent('auth.roles-changed', {
      source: 'auth',
      aggregateId: change.userId,
      payload: {
        userId: change.userId,
        roles: change.roles as Role[],
        previousRoles: change.previousRoles as Role[],
        actorId: change.actorId,
      },
    }),
  ]);
}

/**
 * Lets sign-up wait until the user subgraph has created the profile, so the AuthPayload's
 * `user` resolves at once. Every auth replica listens; the one holding the waiter answers it.
 */
export async function createProfileWaiter(bus: EventBus<DomainEvent>, timeoutMs: number, logger: Logger) {
  const waiting = new Map<string, () => void>();
  const subscription: Subscription = await bus.listen({
    types: ['user.profile-created'],
    handler: (event) => {
      waiting.get(event.payload.userId)?.();
    },
  });
  return {
    waitForProfile(userId: string) {
      let timer: NodeJS.Timeout | undefined;
      const ready = new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiting.delete(userId);
          resolve();
        };
        waiting.set(userId, done);
        timer = setTimeout(() => {
          // The outbox guarantees the profile will exist; the caller just gets its answer sooner.
          logger.warn({ userId, timeoutMs }, 'profile not confirmed in time; answering sign-up anyway');
          done();
        }, timeoutMs);
      });
      return {
        ready,
        cancel() {
          clearTimeout(timer);
          waiting.delete(userId);
        },
      };
    },
    close: () => subscription.close(),
  };
}
