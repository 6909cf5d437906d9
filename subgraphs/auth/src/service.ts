import { startSubgraphService, type Logger, type PlatformEventBus, type ServiceHandle } from '@meridian/service-kit';
import { PrismaClient } from './generated/prisma/client';
import type { AuthConfig } from './config';
import { createAuthStore } from './data/authStore';
import { createAuthService } from './domain/authService';
import { createTokenIssuer } from './domain/signingKeys';
import { createProfileWaiter, recordRegistration } from './events';
import { createAuthSubgraph } from './server';

/** Starts the auth service: database, signing keys, outbox relay, HTTP + JWKS. */
export function startAuthService(options: { config: AuthConfig; bus?: PlatformEventBus; logger?: Logger }): Promise<ServiceHandle> {
  const { config } = options;
  return startSubgraphService({
    ...options,
    createPrisma: (adapter) => new PrismaClient({ adapter }),
    build: async ({ prisma, bus, relay, verifier, logger, stack }) => {
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
        waitForProfile: profiles.waitForProfile,
        afterCommit: () => relay.notify(),
      });
      return createAuthSubgraph({ prisma, auth, issuer, verifier, logger, production: config.production });
    },
  });
}
