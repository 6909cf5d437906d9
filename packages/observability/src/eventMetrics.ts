import { counter, createLabelBucket, getProcessRegistry, histogram, LAG_BUCKETS, type Registry } from './metrics';

/** What the event bridge reports; label values are the event type and consumer group. */
export interface EventMetrics {
  published(type: string, count?: number): void;
  /** One handler run (an attempt) for one event; lag only on the first attempt. */
  handled(group: string, type: string, outcome: 'ok' | 'error', seconds: number, lagSeconds?: number): void;
  deadLettered(group: string, type: string): void;
}

let shared: EventMetrics | undefined;

/** Event bridge metrics, in the process registry (one bus can serve several services in embedded mode). */
export function getEventMetrics(registry: Registry = getProcessRegistry()): EventMetrics {
  if (shared && registry === getProcessRegistry()) return shared;
  const published = counter(registry, 'meridian_events_published_total', 'Events appended to the bus, by type.', ['type'] as const);
  const consumed = counter(registry, 'meridian_events_consumed_total', 'Event handler runs by consumer group, type and outcome (ok | error; errors are retried).', [
    'group',
    'type',
    'outcome',
  ] as const);
  const duration = histogram(registry, 'meridian_event_handler_duration_seconds', 'Event handler run time, by group and type.', ['group', 'type'] as const);
  const lag = histogram(registry, 'meridian_event_lag_seconds', 'Time from an event occurring to its first handling, by group and type.', ['group', 'type'] as const, LAG_BUCKETS);
  const dead = counter(registry, 'meridian_events_dead_lettered_total', 'Events moved to the dead letters, by group and type.', ['group', 'type'] as const);
  const types = createLabelBucket(200);
  const groups = createLabelBucket(100);
  const metrics: EventMetrics = {
    published: (type, count = 1) => published.inc({ type: types(type) }, count),
    handled(group, type, outcome, seconds, lagSeconds) {
      const labels = { group: groups(group), type: types(type) };
      consumed.inc({ ...labels, outcome });
      duration.observe(labels, seconds);
      if (lagSeconds !== undefined) lag.observe(labels, Math.max(0, lagSeconds));
    },
    deadLettered: (group, type) => dead.inc({ group: groups(group), type: types(type) }),
  };
  if (registry === getProcessRegistry()) shared = metrics;
  return metrics;
}
