import { openDatabase } from '@meridian/database';
import { createOutboxRelay, type EventBus } from '@meridian/event-bridge';
import type { DomainEvent } from '@meridian/domain-events';
import { startWithCleanup, type Logger, type ServiceHandle } from '@meridian/service-kit';
import { createTokenVerifier } from '@meridian/tokens';
import { PrismaClient } from './generated/prisma/client';
import type { AuthConfig } from './config';
import { createAuthStore } from './data/authStore';
import { createAuthService } from './domain/authService';
import { createTokenIssuer } from './domain/signingKeys';
import { createProfileWaiter, recordRegistration } from './events';
import { createAuthSubgraph, JWKS_PATH } from './server';

/** Wires and starts the auth service: database, signing keys, outbox relay, HTTP + JWKS. */
export function startAuthService(options: { config: AuthConfig; bus: EventBus<DomainEvent>; logger: Logger }): Promise<ServiceHandle> {
  const { config, bus, logger } = options;
  return startWithCleanup(async (stack) => {
    const database = await openDatabase({ service: 'auth', ...config.database });
    stack.defer('database', () => database.close());
    if (database.kind === 'pglite') await database.migrate();
    const prisma = new PrismaClient({ adapter: database.adapter });
    stack.defer('prisma', () => prisma.$disconnect());
    const store = createAuthStore(prisma);
    const issuer = createTokenIssuer(store.signingKeys, {
      issuer: config.issuer,
      audience: config.audience,
      accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    });
    await issuer.init();
    const relay = createOutboxRelay({ prisma, bus });
    stack.defer('outbox relay', () => relay.stop());
    const profiles = await createProfileWaiter(bus, config.signUpProfileTimeoutMs, logger);
    stack.defer('profile waiter', () => profiles.close());
    const auth = createAuthService({
      store,
      issuer,
      recordRegistration,
      waitForProfile: profiles.waitForProfile,
      afterCommit: () => relay.notify(),
    });
    let ownUrl = '';
    const verifier = createTokenVerifier({
      jwksUrl: () => config.jwksUrl ?? `${ownUrl}${JWKS_PATH}`,
      issuer: config.issuer,
      audience: config.audience,
    });
    const server = createAuthSubgraph({ prisma, auth, issuer, verifier, logger, production: config.production });
    stack.defer('http', () => server.close());
    const running = await server.listen(config.port, config.host);
    ownUrl = running.url;
    return { name: 'auth', url: running.url, stop: () => stack.stop() };
  });
}
