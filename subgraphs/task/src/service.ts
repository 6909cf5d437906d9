import { openDatabase } from '@meridian/database';
import { createOutboxRelay, type EventBus } from '@meridian/event-bridge';
import type { DomainEvent } from '@meridian/domain-events';
import { startWithCleanup, type Logger, type ServiceHandle } from '@meridian/service-kit';
import { createTokenVerifier } from '@meridian/tokens';
import { PrismaClient } from './generated/prisma/client';
import type { TaskConfig } from './config';
import { createTaskSubgraph } from './server';

/** Wires and starts the task service: database, outbox relay, HTTP. */
export function startTaskService(options: { config: TaskConfig; bus: EventBus<DomainEvent>; logger: Logger }): Promise<ServiceHandle> {
  const { config, bus, logger } = options;
  return startWithCleanup(async (stack) => {
    const database = await openDatabase({ service: 'task', ...config.database });
    stack.defer('database', () => database.close());
    // PostgreSQL is migrated by its own deploy step (`npm run db:migrate`); the embedded database at start.
    if (database.kind === 'pglite') await database.migrate();
    const prisma = new PrismaClient({ adapter: database.adapter });
    stack.defer('prisma', () => prisma.$disconnect());
    const relay = createOutboxRelay({ prisma, bus });
    stack.defer('outbox relay', () => relay.stop());
    const server = createTaskSubgraph({
      prisma,
      verifier: createTokenVerifier(config.tokens),
      logger,
      production: config.production,
      afterCommit: () => relay.notify(),
    });
    stack.defer('http', () => server.close());
    const running = await server.listen(config.port, config.host);
    return { name: 'task', url: running.url, stop: () => stack.stop() };
  });
}
