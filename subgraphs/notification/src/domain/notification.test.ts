import { loadNotificationConfig } from '../config';
import { preferenceMatrix, validatePreferenceChanges } from './notification';
import { recipients } from './taskNotifications';

describe('recipients', () => {
  it('lists each person once, never the actor, and skips nobody (null)', () => {
    expect(recipients(['A', 'B', 'A', null], 'B')).toEqual(['A']);
    expect(recipients(['A', 'A'], 'C')).toEqual(['A']);
    expect(recipients([null, undefined], 'C')).toEqual([]);
  });
});

describe('preferences', () => {
  it('fills every kind and channel, enabled unless turned off', () => {
    const matrix = preferenceMatrix([{ kind: 'TASK_DUE_SOON', channel: 'EMAIL', enabled: false }]);
    expect(matrix).toHaveLength(8);
    expect(matrix.filter((p) => !p.enabled)).toEqual([{ kind: 'TASK_DUE_SOON', channel: 'EMAIL', enabled: false }]);
  });

  it('rejects an empty list and duplicates, naming the field', () => {
    expect(() => validatePreferenceChanges([])).toThrow('input.preferences');
    expect(() =>
      validatePreferenceChanges([
        { kind: 'TASK_ASSIGNED', channel: 'IN_APP', enabled: true },
        { kind: 'TASK_ASSIGNED', channel: 'IN_APP', enabled: false },
      ]),
    ).toThrow('input.preferences[1]');
  });
});

describe('configuration', () => {
  it('defaults: no SMTP, a day of reminder window, a check a minute', () => {
    const config = loadNotificationConfig({});
    expect(config).toMatchObject({ port: 4004, dueSoon: { windowMs: 86_400_000, checkIntervalMs: 60_000 } });
    expect(config.smtp).toBeUndefined();
  });

  it('reads SMTP settings and names every bad variable', () => {
    expect(loadNotificationConfig({ SMTP_URL: 'smtp://127.0.0.1:2525', SMTP_FROM: 'Ops <ops@example.com>' }).smtp).toEqual({
      url: 'smtp://127.0.0.1:2525',
      from: 'Ops <ops@example.com>',
    });
    expect(() => loadNotificationConfig({ SMTP_URL: 'http://mail.example.com', DUE_SOON_WINDOW_MINUTES: '0', DUE_SOON_CHECK_INTERVAL_MS: 'often' })).toThrow(
      /SMTP_URL[\s\S]*DUE_SOON_WINDOW_MINUTES[\s\S]*DUE_SOON_CHECK_INTERVAL_MS/,
    );
  });
});
