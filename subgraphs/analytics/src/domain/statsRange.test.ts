import { GraphQLError } from 'graphql';
import { MAX_RANGE_DAYS, resolveStatsRange } from './statsRange';

const NOW = new Date('2026-03-10T15:00:00Z');

function fieldOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    expect((error as GraphQLError).extensions.code).toBe('BAD_USER_INPUT');
    return (error as GraphQLError).extensions.field as string;
  }
  throw new Error('expected BAD_USER_INPUT');
}

describe('resolveStatsRange', () => {
  it('covers whole UTC days from the day of `from` to the day of `to`', () => {
    const range = resolveStatsRange({ range: { from: '2026-03-01T23:00:00Z', to: '2026-03-03T01:00:00+02:00' } }, NOW, 'LAST_7_DAYS');
    expect(range.days).toEqual(['2026-03-01', '2026-03-02']);
    expect(range.start.toISOString()).toBe('2026-03-01T00:00:00.000Z');
    expect(range.end.toISOString()).toBe('2026-03-03T00:00:00.000Z');
  });

  it('ends presets today, today included, and falls back to the default preset', () => {
    expect(resolveStatsRange({ preset: 'LAST_7_DAYS' }, NOW, 'LAST_30_DAYS').days).toEqual([
      '2026-03-04', '2026-03-05', '2026-03-06', '2026-03-07', '2026-03-08', '2026-03-09', '2026-03-10',
    ]);
    const fallback = resolveStatsRange({}, NOW, 'LAST_30_DAYS');
    expect(fallback.days).toHaveLength(30);
    expect(fallback.lastDay).toBe('2026-03-10');
  });

  it('accepts exactly the maximum span and rejects a day more', () => {
    expect(resolveStatsRange({ range: { from: '2024-01-01T00:00:00Z', to: '2024-12-31T23:59:59Z' } }, NOW, 'LAST_7_DAYS').days).toHaveLength(MAX_RANGE_DAYS);
    expect(fieldOf(() => resolveStatsRange({ range: { from: '2025-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' } }, NOW, 'LAST_7_DAYS'))).toBe('range.to');
  });

  it('rejects from after to, both range and preset, and dates out of bounds, naming the field', () => {
    expect(fieldOf(() => resolveStatsRange({ range: { from: '2026-03-02T00:00:00Z', to: '2026-03-01T00:00:00Z' } }, NOW, 'LAST_7_DAYS'))).toBe('range.from');
    expect(fieldOf(() => resolveStatsRange({ range: { from: NOW, to: NOW }, preset: 'LAST_7_DAYS' }, NOW, 'LAST_7_DAYS'))).toBe('preset');
    expect(fieldOf(() => resolveStatsRange({ range: { from: '1969-12-31T00:00:00Z', to: NOW } }, NOW, 'LAST_7_DAYS'))).toBe('range.from');
  });
});
