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
import { createAuthStore } from './data/authStore';
import { createAuthService } from './domain/authService';
import { createTokenIssuer } from './domain/signingKeys';
import { createProfileWaiter, recordRegistration, recordSignIn } from './events';
import { createAuthSubgraph } from './server';

/** Starts the auth service: database, signing keys, outbox relay, HTTP + JWKS. */
export function startAuthService(options: { config: AuthConfig; bus?: PlatformEventBus; logger?: Logger }): Promise<ServiceHandle> {
  return startSubgraphService({
    ...options,
    createPrisma: (adapter) => new PrismaClient({ adapter }),
    build: (wiring) => buildAuthSubgraph(wiring, options.config),
  });
}

/** Wires the auth subgraph from its infrastructure (also used by tests that own the database). */
export async function buildAuthSubgraph(wiring: ServiceWiring<PrismaClient>, config: AuthConfig): Promise<SubgraphServer> {
  const { prisma, bus, relay, verifier, logger, stack } = wiring;
  const store = createAuthStore(prisma);
  const issuer = createTokenIssuer(store.signingKeys, {
    issuer: config.tokens.issuer,
    audience: config.tokens.audience,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
  });
  await issuer.init();
  const profiles = await createProfileWaiter(bus, config.signUpProfileTimeoutMs, logger);
  stack.defer('profile waiter', () => profiles.close());
  const auth = createAuthService({
    store,
    issuer,
    recordRegistration,
    recordSignIn,
    waitForProfile: profiles.waitForProfile,
    afterCommit: () => relay.notify(),
  });
  return createAuthSubgraph({ prisma, auth, issuer, verifier, logger, production: config.production });
}
