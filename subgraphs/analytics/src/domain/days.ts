/** A UTC calendar day, `YYYY-MM-DD`. Every figure of this subgraph is bucketed by the UTC day of the event's occurredAt. */
export type Day = string;

const DAY_MS = 86_400_000;

/** The UTC day of an instant. */
export function utcDayOf(at: Date | string): Day {
  const date = at instanceof Date ? at : new Date(at);
  if (Number.isNaN(date.getTime())) throw new RangeError(`Not a date: ${String(at)}`);
  return date.toISOString().slice(0, 10);
}

/** 00:00 UTC of `day`. */
export function startOfDay(day: Day): Date {
  return new Date(`${day}T00:00:00.000Z`);
}

export function addDays(day: Day, count: number): Day {
  return utcDayOf(new Date(startOfDay(day).getTime() + count * DAY_MS));
}

/** Days from `first` to `last`, both included (empty when first is after last). */
export function daysBetween(first: Day, last: Day): Day[] {
  const days: Day[] = [];
  for (let day = first; day <= last; day = addDays(day, 1)) days.push(day);
  return days;
}
