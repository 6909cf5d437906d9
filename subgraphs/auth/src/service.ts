import {
  startSubgraphService,
  type Logger,
  type PlatformEventBus,
  type ServiceHandle,
  type ServiceWiring,
  type SubgraphServer,
} from '@meridian/service-kit';
import { PrismaClient } from './generated/prisma/client';
import type { AuthConfig } from './config';
import { createPublishedSecretScrubber } from './secretScrubber';
import { createAuthStore } from './data/authStore';
import { createAuthService } from './domain/authService';
import type { Clock } from './domain/clock';
import { createSecretBox } from './domain/secretBox';
import { createTokenIssuer } from './domain/signingKeys';
import { createPasswordResetDelivery, createProfileWaiter, recordRegistration, recordRolesChanged, recordSignIn } from './events';
import { createSecretsKeyLoader } from './secretsKey';
import { createAuthSubgraph } from './server';

/** Seam for tests: a clock they can advance. (Reset tokens leave through the outbox; tests read that.) */
export interface AuthBuildOptions {
  clock?: Clock;
}

/** Starts the auth service: database, signing keys, outbox relay, HTTP + JWKS. */
export function startAuthService(options: { config: AuthConfig; bus?: PlatformEventBus; logger?: Logger }): Promise<ServiceHandle> {
  return startSubgraphService({
    ...options,
    createPrisma: (adapter) => new PrismaClient({ adapter }),
    build: (wiring) => buildAuthSubgraph(wiring, options.config),
  });
}

/** Wires the auth subgraph from its infrastructure (also used by tests that own the database). */
export async function buildAuthSubgraph(wiring: ServiceWiring<PrismaClient>, config: AuthConfig, options: AuthBuildOptions = {}): Promise<SubgraphServer> {
  const { prisma, bus, relay, verifier, logger, stack } = wiring;
  const store = createAuthStore(prisma);
  const issuer = createTokenIssuer(store.signingKeys, {
    issuer: config.tokens.issuer,
    audience: config.tokens.audience,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    keyOverlapSeconds: config.signingKeyOverlapSeconds,
    keyCacheMs: config.signingKeyCacheMs,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  await issuer.init();
  const profiles = await createProfileWaiter(bus, config.signUpProfileTimeoutMs, logger);
  stack.defer('profile waiter', () => profiles.close());
  const scrubber = createPublishedSecretScrubber(prisma, logger);
  // Safety net for rows another replica's relay published: sweep every 10 s.
  const scrubTimer = setInterval(scrubber.sweepQuietly, 10_000);
  scrubTimer.unref();
  stack.defer('outbox secret scrubber', () => clearInterval(scrubTimer));
  const auth = createAuthService({
    store,
    issuer,
    recordRegistration,
    recordSignIn,
    recordRolesChanged,
    deliverPasswordReset: createPasswordResetDelivery(),
    waitForProfile: profiles.waitForProfile,
    afterCommit: () => {
      relay.notify();
      // Publish now, then drop the secrets of what was published (a password-reset token).
      relay.flush().then(scrubber.sweepQuietly, () => undefined);
    },
    secrets: createSecretBox(createSecretsKeyLoader(config)),
    bootstrapAdminEmails: config.bootstrapAdminEmails,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  // Every replica runs the check; retiring is idempotent.
  const retireKeys = () => {
    auth.retireSigningKeys().catch((error: unknown) => logger.error({ err: error }, 'signing-key retirement check failed'));
  };
  retireKeys();
  const keyCheck = setInterval(retireKeys, config.signingKeyCheckIntervalMs);
  keyCheck.unref();
  stack.defer('signing-key check', () => clearInterval(keyCheck));
  return createAuthSubgraph({ prisma, auth, issuer, verifier, logger, production: config.production });
}
