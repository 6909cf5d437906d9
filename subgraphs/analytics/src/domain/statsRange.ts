import { badUserInput } from '@meridian/errors';
import { addDays, daysBetween, startOfDay, utcDayOf, type Day } from './days';

/** Longest range a query may ask for, in days (a leap year). */
export const MAX_RANGE_DAYS = 366;

export type StatsRangePreset = 'LAST_7_DAYS' | 'LAST_30_DAYS' | 'LAST_90_DAYS' | 'LAST_365_DAYS';

const PRESET_DAYS: Record<StatsRangePreset, number> = {
  LAST_7_DAYS: 7,
  LAST_30_DAYS: 30,
  LAST_90_DAYS: 90,
  LAST_365_DAYS: 365,
};

// Instants outside these years are almost certainly mistakes, and stay clear of Date/PostgreSQL limits.
const MIN_TIME = Date.UTC(1970, 0, 1);
const MAX_TIME = Date.UTC(10_000, 0, 1);

/** A range of whole UTC days, both ends included. */
export interface DayRange {
  firstDay: Day;
  lastDay: Day;
  /** Every day of the range, oldest first. */
  days: Day[];
  /** 00:00 UTC of firstDay. */
  start: Date;
  /** 00:00 UTC of the day after lastDay (exclusive end). */
  end: Date;
}

/** What DashboardStats fields resolve from. */
export interface StatsScope {
  range: DayRange;
}

/** What UserStats fields resolve from. */
export interface UserStatsScope {
  userId: string;
  range: DayRange;
}

type Maybe<T> = T | null | undefined;

export interface StatsRangeArgs {
  range?: Maybe<{ from: Date | string; to: Date | string }>;
  preset?: Maybe<StatsRangePreset>;
}

/**
 * Turns `range` or `preset` (at most one) into whole UTC days. A range covers the day of
 * `from` through the day of `to`; a preset ends today (UTC) and includes it. Throws
 * BAD_USER_INPUT naming the field.
 */
export function resolveStatsRange(args: StatsRangeArgs, now: Date, fallback: StatsRangePreset): DayRange {
  if (args.range != null && args.preset != null) throw badUserInput('preset', 'give either range or preset, not both.');
  if (args.range != null) {
    const from = toDate(args.range.from, 'range.from');
    const to = toDate(args.range.to, 'range.to');
    if (from.getTime() > to.getTime()) throw badUserInput('range.from', 'must not be after range.to.');
    const range = dayRange(utcDayOf(from), utcDayOf(to));
    if (range.days.length > MAX_RANGE_DAYS) throw badUserInput('range.to', `must be at most ${MAX_RANGE_DAYS} days after range.from (days included).`);
    return range;
  }
  const today = utcDayOf(now);
  return dayRange(addDays(today, -(PRESET_DAYS[args.preset ?? fallback] - 1)), today);
}

export function dayRange(firstDay: Day, lastDay: Day): DayRange {
  return { firstDay, lastDay, days: daysBetween(firstDay, lastDay), start: startOfDay(firstDay), end: startOfDay(addDays(lastDay, 1)) };
}

function toDate(value: Date | string, field: string): Date {
  const date = value instanceof Date ? value : new Date(value);
  const time = date.getTime();
  if (Number.isNaN(time)) throw badUserInput(field, 'must be a valid ISO-8601 date-time.');
  if (time < MIN_TIME || time >= MAX_TIME) throw badUserInput(field, 'must be between the years 1970 and 9999.');
  return date;
}
