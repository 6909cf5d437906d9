import { writeOutbox, type EventBus, type Subscription } from '@meridian/event-bridge';
import { createDomainEvent, type DomainEvent } from '@meridian/domain-events';
import type { Logger } from '@meridian/service-kit';
import type { PasswordResetMessage, Registration, RolesChange } from './domain/authService';

/** `auth.user-registered`, written in the account's transaction. */
export async function recordRegistration(tx: unknown, registration: Registration): Promise<void> {
  await writeOutbox(tx as Parameters<typeof writeOutbox>[0], [
    createDomainEvent('auth.user-registered', {
      source: 'auth',
      aggregateId: registration.userId,
      payload: registration,
    }),
  ]);
}

/** `auth.signed-in`, written in the new session's transaction. */
export async function recordSignIn(tx: unknown, signIn: { userId: string; sessionId: string }): Promise<void> {
  await writeOutbox(tx as Parameters<typeof writeOutbox>[0], [
    createDomainEvent('auth.signed-in', { source: 'auth', aggregateId: signIn.userId, payload: signIn }),
  ]);
}

/**
 * Hands a password-reset token to the notification channel, in the token's transaction.
 * The event type `auth.password-reset-requested` is not in the catalogue yet; once it is, the
 * body becomes one line:
 *   await writeOutbox(tx as ..., [createDomainEvent('auth.password-reset-requested', { source: 'auth', aggregateId: message.userId, payload: { ...message, expiresAt: message.expiresAt.toISOString() } })]);
 * Until then nothing is sent, and a warning (without the token) says so.
 */
export function createPasswordResetDelivery(logger: Logger) {
  return async (_tx: unknown, message: PasswordResetMessage): Promise<void> => {
    logger.warn({ userId: message.userId }, 'password reset requested, but no delivery channel is wired yet (auth.password-reset-requested)');
  };
}

/**
 * Tells the user subgraph that roles changed, in the change's transaction. Becomes
 *   await writeOutbox(tx as ..., [createDomainEvent('auth.roles-changed', { source: 'auth', aggregateId: change.userId, payload: change })]);
 * once `auth.roles-changed` is in the catalogue. Until then the user subgraph's `roles` lag.
 */
export async function recordRolesChanged(_tx: unknown, _change: RolesChange): Promise<void> {}

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
