import type { Prisma } from '../generated/prisma/client';
import type { DayUser, EventEffects, TaskFact } from '../domain/taskFacts';

/** The transaction an event is handled in (the inbox row is written in it too). */
export type AnalyticsTransaction = Prisma.TransactionClient;

/** What analytics knows about a task, or null when it has never heard of it. */
export async function loadTaskFact(tx: AnalyticsTransaction, taskId: string): Promise<TaskFact | null> {
  return tx.taskFact.findUnique({ where: { taskId } });
}

/**
 * Writes the effects of one event. Counters are single-statement upserts (`+ n`), so handlers
 * of different tasks running at the same time never lose an increment. Rows are always
 * touched in the same order (task, day, users by id, activity) so concurrent handlers cannot
 * deadlock each other.
 */
export async function applyEffects(tx: AnalyticsTransaction, effects: EventEffects): Promise<void> {
  if (effects.fact) {
    const { taskId, ...state } = effects.fact;
    await tx.taskFact.upsert({ where: { taskId }, create: effects.fact, update: state });
  }

  const counted = [effects.created, effects.completed].filter((entry): entry is DayUser => entry !== null);
  for (const day of new Set(counted.map((entry) => entry.day))) {
    const created = effects.created?.day === day ? 1 : 0;
    const completed = effects.completed?.day === day ? 1 : 0;
    await tx.$executeRaw`
      INSERT INTO daily_stats (day, tasks_created, tasks_completed) VALUES (${day}::date, ${created}, ${completed})
      ON CONFLICT (day) DO UPDATE SET
        tasks_created = daily_stats.tasks_created + EXCLUDED.tasks_created,
        tasks_completed = daily_stats.tasks_completed + EXCLUDED.tasks_completed`;
  }

  const perUser = new Map<string, { day: string; userId: string; created: number; completed: number }>();
  for (const [entry, kind] of [[effects.created, 'created'], [effects.completed, 'completed']] as const) {
    if (!entry) continue;
    const key = `${entry.userId}\u0000${entry.day}`;
    const row = perUser.get(key) ?? { day: entry.day, userId: entry.userId, created: 0, completed: 0 };
    row[kind] += 1;
    perUser.set(key, row);
  }
  for (const row of [...perUser.values()].sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0))) {
    await tx.$executeRaw`
      INSERT INTO user_daily_stats (user_id, day, tasks_created, tasks_completed)
      VALUES (${row.userId}, ${row.day}::date, ${row.created}, ${row.completed})
      ON CONFLICT (user_id, day) DO UPDATE SET
        tasks_created = user_daily_stats.tasks_created + EXCLUDED.tasks_created,
        tasks_completed = user_daily_stats.tasks_completed + EXCLUDED.tasks_completed`;
  }

  if (effects.active) {
    await tx.$executeRaw`
      INSERT INTO daily_active_users (day, user_id) VALUES (${effects.active.day}::date, ${effects.active.userId})
      ON CONFLICT DO NOTHING`;
  }
}

/**
 * Empties the read models and the group's inbox rows, inside the rebuild's transaction.
 * The inbox is locked against inserts first: handlers in other processes then wait (and
 * retry) until the rebuild commits, instead of interleaving with the replay. DELETE rather
 * than TRUNCATE keeps the old figures readable (MVCC) until the rebuilt ones commit.
 */
export async function clearReadModels(tx: AnalyticsTransaction, group: string): Promise<void> {
  await tx.$executeRaw`LOCK TABLE inbox_events IN SHARE ROW EXCLUSIVE MODE`;
  await tx.$executeRaw`DELETE FROM inbox_events WHERE "group" = ${group}`;
  await tx.$executeRaw`DELETE FROM task_facts`;
  await tx.$executeRaw`DELETE FROM daily_stats`;
  await tx.$executeRaw`DELETE FROM user_daily_stats`;
  await tx.$executeRaw`DELETE FROM daily_active_users`;
}
