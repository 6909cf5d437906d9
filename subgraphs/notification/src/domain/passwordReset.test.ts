import { initialResetStatus, passwordResetLink, renderPasswordResetEmail } from './passwordReset';

test('the link carries the token as a query parameter, encoded, keeping the base URL parameters', () => {
  expect(passwordResetLink('http://127.0.0.1:4000/reset-password', 'abc-_123')).toBe('http://127.0.0.1:4000/reset-password?token=abc-_123');
  expect(passwordResetLink('https://app.example.com/r?lang=en&token=old', 'a+b/c')).toBe('https://app.example.com/r?lang=en&token=a%2Bb%2Fc');
});

test('a reset e-mail is queued only with SMTP configured and an unexpired link', () => {
  const now = new Date('2026-12-01T10:00:00Z');
  const later = { expiresAt: new Date('2026-12-01T10:30:00Z') };
  expect(initialResetStatus(later, now, true, 'no SMTP')).toEqual({ status: 'PENDING', error: null });
  expect(initialResetStatus(later, now, false, 'no SMTP')).toEqual({ status: 'SKIPPED', error: 'no SMTP' });
  expect(initialResetStatus({ expiresAt: now }, now, true, 'no SMTP').status).toBe('SKIPPED');
});

test('the e-mail goes to the address of the request, with the link and the expiry', () => {
  const message = renderPasswordResetEmail(
    { userId: 'u1', email: 'ada@example.com', token: 't', expiresAt: new Date('2026-12-01T10:30:00Z') },
    'https://x.test/r?token=t',
    null,
  );
  expect(message.to).toBe('ada@example.com');
  expect(message.text).toContain('https://x.test/r?token=t');
  expect(message.text).toContain('2026-12-01T10:30:00.000Z');
});
