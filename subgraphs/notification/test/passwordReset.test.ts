/**
 * auth.password-reset-requested → the reset e-mail, against a real SMTP server (smtp-server on a
 * free port). The handlers are wired here (as startNotificationService wires them) with a logger
 * at trace level writing to memory, so the test can check that the token reaches the mailbox and
 * nowhere else: not the logs, not a row of this service's database.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { createDomainEvent, createPlatformEventBus, type DomainEvent } from '@meridian/domain-events';
import type { EventBus, Subscription } from '@meridian/event-bridge';
import { captureLogs, deleteRedisKeys, eventually, getTestModes, openTestDatabase, type OpenTestDatabase } from '@meridian/testing';
import { PrismaClient } from '../src/generated/prisma/client';
import type { EmailSender } from '../src/domain/email';
import { createSmtpEmailSender } from '../src/email/smtpEmailSender';
import { subscribeNotificationEventHandlers } from '../src/events';
import { loadNotificationConfig } from '../src/config';
import { startNotificationService } from '../src/service';
import { createHarness, taskEvents } from './harness';

const ADA = '01JUSER00000000000000ADA01';
const REX = '01JUSER00000000000000REX01';
const NED = '01JUSER00000000000000NED01';

interface ReceivedMail {
  to: string[];
  raw: string;
}

let smtp: SMTPServer;
let smtpPort: number;
const mailbox: ReceivedMail[] = [];
let testDb: OpenTestDatabase;
let prisma: PrismaClient;
let bus: EventBus<DomainEvent>;
let sender: EmailSender;
let handlers: Subscription;
const logs = captureLogs();
/** Every token this file published. */
const tokens: string[] = [];
const redisUrl = process.env.TEST_REDIS_URL || undefined;
const streamPrefix = `test:notification-reset:${process.pid}:${randomUUID()}`;

function resetRequested(userId: string, email: string, expiresAt = new Date(Date.now() + 30 * 60_000)) {
  const token = randomBytes(32).toString('base64url');
  tokens.push(token);
  return createDomainEvent('auth.password-reset-requested', { payload: { userId, email, token, expiresAt: expiresAt.toISOString() } });
}

/** The text body of a raw message (nodemailer may use quoted-printable; undo soft breaks and escapes). */
function bodyOf(mail: ReceivedMail): string {
  const body = mail.raw.slice(mail.raw.indexOf('\r\n\r\n') + 4);
  if (!/Content-Transfer-Encoding: quoted-printable/i.test(mail.raw)) return body;
  return Buffer.from(
    body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16))),
    'latin1',
  ).toString('utf8');
}

async function accountEmailsOf(userId: string) {
  return prisma.accountEmail.findMany({ where: { recipientId: userId }, orderBy: { id: 'asc' } });
}

/** Every row of every table of this service's database, as text. */
async function everyRow(): Promise<string> {
  const tables = await prisma.$queryRaw<{ table_name: string }[]>`
    SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`;
  expect(tables.map((table) => table.table_name)).toEqual(expect.arrayContaining(['account_emails', 'notifications', 'deliveries', 'inbox_events']));
  const dumps: string[] = [];
  for (const { table_name } of tables) {
    const rows = await prisma.$queryRawUnsafe<Record<string, unknown>[]>(`SELECT * FROM "${table_name.replace(/"/g, '""')}"`);
    dumps.push(`${table_name}: ${JSON.stringify(rows, (_key, value) => (typeof value === 'bigint' ? value.toString() : value))}`);
  }
  return dumps.join('\n');
}

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (address.address.startsWith('refused@')) return callback(Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 }));
      return callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        mailbox.push({ to: session.envelope.rcptTo.map((rcpt) => rcpt.address), raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  smtpPort = (smtp.server.address() as AddressInfo).port;

  testDb = await openTestDatabase('notification');
  prisma = new PrismaClient({ adapter: testDb.adapter });
  // Trace level, no redaction: the logs show everything the code hands to the logger (the bus's included).
  const { logger } = logs;
  bus = createPlatformEventBus({ redisUrl, streamPrefix, logger: logger.child({ name: 'event-bridge' }) });
  sender = createSmtpEmailSender({ url: `smtp://127.0.0.1:${smtpPort}`, from: 'Meridian <security@meridian.test>' });
  handlers = await subscribeNotificationEventHandlers({
    prisma,
    bus,
    logger,
    emailSender: sender,
    passwordResetUrl: loadNotificationConfig({}).passwordResetUrl,
  });
  await bus.publish(taskEvents.userRegistered(ADA, 'ada@example.com', 'Ada Lovelace'));
  await eventually(async () => expect(await prisma.userContact.count()).toBe(1));
});

afterAll(async () => {
  await handlers?.close();
  await bus?.close();
  await sender?.close();
  await prisma?.$disconnect();
  await testDb?.close();
  await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
  if (redisUrl) await deleteRedisKeys(redisUrl, streamPrefix);
});

it('e-mails the reset link (PASSWORD_RESET_URL default) to the address in the event, once, and records the attempt', async () => {
  const event = resetRequested(ADA, 'ada.new@example.com');
  await bus.publish(event);
  await bus.publish(event); // at-least-once delivery: a duplicate sends nothing more
  const mail = await eventually(async () => {
    const found = mailbox.find((each) => each.to.includes('ada.new@example.com'));
    expect(found).toBeDefined();
    return found!;
  });
  const body = bodyOf(mail);
  expect(body).toContain(`http://127.0.0.1:4000/reset-password?token=${event.payload.token}`);
  expect(body).toContain('Hello Ada Lovelace');
  expect(body).toContain(event.payload.expiresAt);
  expect(mail.raw).toMatch(/^Subject: Reset your Meridian password/m);

  await eventually(async () => expect(await accountEmailsOf(ADA)).toEqual([expect.objectContaining({ eventId: event.id, kind: 'PASSWORD_RESET', status: 'SENT', error: null })]));
  expect(await prisma.inboxEvent.count({ where: { eventId: event.id } })).toBe(1);
  expect(mailbox.filter((each) => each.to.includes('ada.new@example.com'))).toHaveLength(1);
  // Never in-app: no notification of any kind for the user.
  expect(await prisma.notification.count({ where: { recipientId: ADA } })).toBe(0);
});

it('records FAILED with the reason when the server refuses, and SKIPPED for a link that already expired', async () => {
  const refused = resetRequested(REX, 'refused@example.com');
  const expired = resetRequested(NED, 'ned@example.com', new Date(Date.now() - 1000));
  await bus.publish([refused, expired]);
  await eventually(async () => {
    expect(await accountEmailsOf(REX)).toEqual([expect.objectContaining({ status: 'FAILED', error: expect.stringMatching(/550|Mailbox unavailable/) })]);
    expect(await accountEmailsOf(NED)).toEqual([
      expect.objectContaining({ status: 'SKIPPED', error: 'the reset link expired before it could be sent' }),
    ]);
  });
  expect(mailbox.some((mail) => mail.to.includes('ned@example.com') || mail.to.includes('refused@example.com'))).toBe(false);
});

it('is wired by startNotificationService with PASSWORD_RESET_URL (other query parameters kept)', async () => {
  const mode = getTestModes().at(-1)!;
  const harness = await createHarness(mode, 'notification-reset');
  const withSmtp = await startNotificationService({
    config: loadNotificationConfig({
      ...harness.env,
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      PASSWORD_RESET_URL: 'https://app.example.com/account/reset?lang=en',
    }),
    bus: harness.bus,
  });
  try {
    const event = resetRequested('01JUSER00000000000000CARA1', 'cara@example.com');
    await harness.bus.publish(event);
    const mail = await eventually(async () => {
      const found = mailbox.find((each) => each.to.includes('cara@example.com'));
      expect(found).toBeDefined();
      return found!;
    });
    expect(bodyOf(mail)).toContain(`https://app.example.com/account/reset?lang=en&token=${event.payload.token}`);
    expect(bodyOf(mail)).toMatch(/^Hello,$/m); // no contact known: no name
  } finally {
    await withSmtp.stop();
    await harness.close();
  }
  expect(() => loadNotificationConfig({ PASSWORD_RESET_URL: 'javascript:alert(1)' })).toThrow(/PASSWORD_RESET_URL/);
});

it('keeps the token out of the logs and out of every row of its database', async () => {
  await eventually(async () => expect(await prisma.accountEmail.count({ where: { status: { not: 'PENDING' } } })).toBe(3));
  expect(tokens.length).toBeGreaterThanOrEqual(4);
  const logText = logs.text();
  expect(logText).toContain('password-reset e-mail'); // the handlers did log (sent, failed, skipped)
  const rows = await everyRow();
  for (const [where, text] of Object.entries({ logs: logText, rows })) {
    expect({ where, leaked: tokens.filter((token) => text.includes(token)) }).toEqual({ where, leaked: [] });
  }
});
