import { openDatabase } from '@meridian/database';
import { createOutboxRelay, type EventBus } from '@meridian/event-bridge';
import type { DomainEvent } from '@meridian/domain-events';
import { startWithCleanup, type Logger, type ServiceHandle } from '@meridian/service-kit';
import { createTokenVerifier } from '@meridian/tokens';
import { PrismaClient } from './generated/prisma/client';
import type { UserConfig } from './config';
import { subscribeUserEventHandlers } from './events';
import { createUserSubgraph } from './server';

/** Wires and starts the user service: database, outbox relay, event handlers, HTTP. */
export function startUserService(options: { config: UserConfig; bus: EventBus<DomainEvent>; logger: Logger }): Promise<ServiceHandle> {
  const { config, bus, logger } = options;
  return startWithCleanup(async (stack) => {
    const database = await openDatabase({ service: 'user', ...config.database });
    stack.defer('database', () => database.close());
    if (database.kind === 'pglite') await database.migrate();
    const prisma = new PrismaClient({ adapter: database.adapter });
    stack.defer('prisma', () => prisma.$disconnect());
    const relay = createOutboxRelay({ prisma, bus });
    stack.defer('outbox relay', () => relay.stop());
    const handlers = await subscribeUserEventHandlers({ prisma, bus, afterCommit: () => relay.notify(), logger });
    stack.defer('event handlers', () => handlers.close());
    const server = createUserSubgraph({ prisma, verifier: createTokenVerifier(config.tokens), logger, production: config.production });
    stack.defer('http', () => server.close());
    const running = await server.listen(config.port, config.host);
    return { name: 'user', url: running.url, stop: () => stack.stop() };
  });
}
