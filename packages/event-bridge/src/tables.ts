/**
 * The outbox and inbox tables as SQL: what a migration of the `OutboxEvent` / `InboxEvent` Prisma
 * models (the same text in every service's schema) creates. For databases made without a
 * migration: the event bridge's tests and the events benchmark.
 */
export const OUTBOX_INBOX_TABLES_SQL = `
CREATE TABLE outbox_events (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  version INTEGER NOT NULL,
  source TEXT NOT NULL,
  aggregate_id TEXT NOT NULL,
  occurred_at TIMESTAMPTZ(3) NOT NULL,
  traceparent TEXT,
  request_id TEXT,
  payload JSONB NOT NULL,
  published_at TIMESTAMPTZ(3),
  attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_events_published_at_id_idx ON outbox_events (published_at, id);
CREATE TABLE inbox_events (
  "group" TEXT NOT NULL,
  event_id TEXT NOT NULL,
  handled_at TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  PRIMARY KEY ("group", event_id)
);
`;
