import { gauge, type Registry } from '@meridian/observability';
import type { Database } from '@meridian/database';
import type { RawSqlClient } from '@meridian/event-bridge';

/**
 * Gauges read at scrape time: the database pool (PostgreSQL) and the outbox backlog. A failed
 * read leaves the previous values (a scrape never fails because the database is away).
 */
export function observeServiceRuntime(registry: Registry, deps: { prisma: RawSqlClient; database: Pick<Database, 'poolStats'> }): void {
  gauge(registry, 'meridian_db_pool_connections', 'Database pool connections by state (total | idle); PostgreSQL only.', ['state'] as const, function () {
    const stats = deps.database.poolStats();
    if (!stats) return;
    this.set({ state: 'total' }, stats.total);
    this.set({ state: 'idle' }, stats.idle);
  });
  gauge(registry, 'meridian_db_pool_waiting_requests', 'Queries waiting for a free pool connection; PostgreSQL only.', [] as const, function () {
    const stats = deps.database.poolStats();
    if (stats) this.set(stats.waiting);
  });
  let backlog: Promise<{ pending: number; oldest: number }> | undefined;
  // One query per scrape feeds both gauges.
  const readBacklog = () =>
    (backlog ??= Promise.resolve(
      deps.prisma.$queryRaw<{ pending: number; oldest: number | null }[]>`
        SELECT count(*)::int AS pending, coalesce(extract(epoch FROM now() - min(occurred_at)), 0)::float8 AS oldest
        FROM outbox_events WHERE published_at IS NULL`,
    )
      .then((rows) => ({ pending: Number(rows[0]?.pending ?? 0), oldest: Number(rows[0]?.oldest ?? 0) }))
      .finally(() => setTimeout(() => (backlog = undefined), 100).unref()));
  gauge(registry, 'meridian_outbox_pending_events', 'Outbox rows committed but not yet published to the bus.', [] as const, async function () {
    const value = await readBacklog().catch(() => undefined);
    if (value) this.set(value.pending);
  });
  gauge(registry, 'meridian_outbox_oldest_pending_seconds', 'Age of the oldest unpublished outbox row (0 when none).', [] as const, async function () {
    const value = await readBacklog().catch(() => undefined);
    if (value) this.set(value.oldest);
  });
}
