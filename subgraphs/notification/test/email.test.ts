/**
 * The e-mail channel against a real SMTP server (smtp-server, on a free port) that accepts
 * mail, except for one mailbox it refuses with 550. The handlers and the database are wired
 * here (as startNotificationService wires them) so the Delivery rows can be checked directly.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { createPlatformEventBus, type DomainEvent } from '@meridian/domain-events';
import type { EventBus, Subscription } from '@meridian/event-bridge';
import { createLogger } from '@meridian/service-kit';
import { PrismaClient } from '../src/generated/prisma/client';
import { createDueSoonStore } from '../src/data/notificationStore';
import { runDueSoonCheck } from '../src/domain/dueSoon';
import type { EmailSender } from '../src/domain/email';
import { createSmtpEmailSender } from '../src/email/smtpEmailSender';
import { subscribeNotificationEventHandlers } from '../src/events';
import { deleteRedisKeys, eventually, getTestModes, openTestDatabase, type OpenTestDatabase } from '@meridian/testing';
import { loadNotificationConfig } from '../src/config';
import { startNotificationService } from '../src/service';
import { createHarness, newTaskId, taskEvents, type TaskFixture } from './harness';

const ALICE = '01JUSER00000000000000ALICE';
const BOB = '01JUSER000000000000000BOB0';
const REFUSED = '01JUSER0000000000000REFUSE';
const QUIET = '01JUSER00000000000000QUIET';
const UNKNOWN = '01JUSER0000000000000UNKNWN';

interface ReceivedMail {
  from: string;
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
const redisUrl = process.env.TEST_REDIS_URL || undefined;
const streamPrefix = `test:notification-email:${process.pid}:${randomUUID()}`;

/** The Subject header, with RFC 2047 encoded words (nodemailer encodes quotes) decoded. */
function subjectOf(mail: ReceivedMail): string | undefined {
  const header = /^Subject: (.*(?:\r\n[ \t].*)*)/m.exec(mail.raw)?.[1];
  if (header === undefined) return undefined;
  return header
    .replace(/\r\n[ \t]/g, ' ')
    .replace(/=\?UTF-8\?Q\?(.*?)\?=\s*/gi, (_match, text: string) =>
      Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_hex, code: string) => String.fromCharCode(parseInt(code, 16))), 'latin1').toString('utf8'),
    )
    .replace(/=\?UTF-8\?B\?(.*?)\?=\s*/gi, (_match, text: string) => Buffer.from(text, 'base64').toString('utf8'))
    .trim();
}

/** `auth.user-registered` events handled by the notification group in this process, from `/metrics`. */
async function registrationsHandled(serviceUrl: string): Promise<number> {
  const text = await (await fetch(`${serviceUrl}/metrics`)).text();
  const line = text.split('\n').find((each) => each.startsWith('meridian_events_consumed_total{') && each.includes('group="notification"') && each.includes('type="auth.user-registered"') && each.includes('outcome="ok"'));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function deliveriesOf(recipientId: string, taskId: string) {
  const notifications = await prisma.notification.findMany({ where: { recipientId, taskId }, include: { deliveries: true } });
  return notifications.flatMap((notification) =>
    notification.deliveries.map((delivery) => ({ kind: notification.kind, channel: delivery.channel, status: delivery.status, error: delivery.error })),
  );
}

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (address.address.startsWith('refused@')) {
        const error = Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 });
        return callback(error);
      }
      return callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        mailbox.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  smtpPort = (smtp.server.address() as AddressInfo).port;

  testDb = await openTestDatabase('notification');
  prisma = new PrismaClient({ adapter: testDb.adapter });
  const logger = createLogger('notification', 'silent');
  bus = createPlatformEventBus({ redisUrl, streamPrefix, logger });
  sender = createSmtpEmailSender({ url: `smtp://127.0.0.1:${smtpPort}`, from: 'Meridian <notifications@meridian.test>' });
  handlers = await subscribeNotificationEventHandlers({ prisma, bus, logger, emailSender: sender, passwordResetUrl: 'http://127.0.0.1:4000/reset-password' });

  await bus.publish([
    taskEvents.userRegistered(BOB, 'bob@example.com', 'Bob Builder'),
    taskEvents.userRegistered(REFUSED, 'refused@example.com', 'Rex Refused'),
    taskEvents.userRegistered(QUIET, 'quiet@example.com', 'Quinn Quiet'),
  ]);
  await eventually(async () => expect(await prisma.userContact.count()).toBe(3));
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

it('e-mails the recipient at their registered address with the notification as subject', async () => {
  const task: TaskFixture = { id: newTaskId(), title: 'Mail me', createdById: ALICE, assigneeId: BOB };
  await bus.publish([taskEvents.created(task), taskEvents.assigned(task, null, ALICE)]);
  const mail = await eventually(async () => {
    const found = mailbox.find((each) => subjectOf(each) === 'You were assigned "Mail me"');
    expect(found).toBeDefined();
    return found!;
  });
  expect(mail.to).toEqual(['bob@example.com']);
  expect(mail.from).toBe('notifications@meridian.test');
  expect(mail.raw).toContain('Hello Bob Builder');
  await eventually(async () =>
    expect(await deliveriesOf(BOB, task.id)).toEqual(
      expect.arrayContaining([
        { kind: 'TASK_ASSIGNED', channel: 'IN_APP', status: 'SENT', error: null },
        { kind: 'TASK_ASSIGNED', channel: 'EMAIL', status: 'SENT', error: null },
      ]),
    ),
  );
});

it('records FAILED with the reason when the server refuses, and keeps the in-app notification', async () => {
  const task: TaskFixture = { id: newTaskId(), title: 'Bounce me', createdById: ALICE, assigneeId: REFUSED };
  await bus.publish([taskEvents.created(task), taskEvents.assigned(task, null, ALICE)]);
  const deliveries = await eventually(async () => {
    const rows = await deliveriesOf(REFUSED, task.id);
    expect(rows.find((row) => row.channel === 'EMAIL')?.status).toBe('FAILED');
    return rows;
  });
  expect(deliveries.find((row) => row.channel === 'EMAIL')?.error).toMatch(/550|Mailbox unavailable/);
  expect(deliveries.find((row) => row.channel === 'IN_APP')).toMatchObject({ status: 'SENT' });
  expect(mailbox.some((mail) => mail.to.includes('refused@example.com'))).toBe(false);
});

it('skips e-mail when the recipient turned it off', async () => {
  await prisma.notificationPreference.create({ data: { userId: QUIET, kind: 'TASK_COMMENTED', channel: 'EMAIL', enabled: false } });
  const task: TaskFixture = { id: newTaskId(), title: 'Hush', createdById: QUIET, assigneeId: BOB };
  await bus.publish([taskEvents.created(task), taskEvents.commented(task, ALICE, 'A remark')]);
  await eventually(async () =>
    expect(await deliveriesOf(QUIET, task.id)).toEqual(
      expect.arrayContaining([
        { kind: 'TASK_COMMENTED', channel: 'IN_APP', status: 'SENT', error: null },
        { kind: 'TASK_COMMENTED', channel: 'EMAIL', status: 'SKIPPED', error: 'turned off by the recipient' },
      ]),
    ),
  );
  expect(mailbox.some((mail) => mail.to.includes('quiet@example.com'))).toBe(false);
});

it("keeps an e-mail waiting for an address not known yet, and sends it when the recipient's registration arrives", async () => {
  // Registration and task events come from different sources, which the bus does not order
  // against each other: the assignment can be handled first.
  const task: TaskFixture = { id: newTaskId(), title: 'Early bird', createdById: ALICE, assigneeId: UNKNOWN };
  await bus.publish([taskEvents.created(task), taskEvents.assigned(task, null, ALICE)]);
  await eventually(async () =>
    expect(await deliveriesOf(UNKNOWN, task.id)).toEqual(
      expect.arrayContaining([
        { kind: 'TASK_ASSIGNED', channel: 'IN_APP', status: 'SENT', error: null },
        { kind: 'TASK_ASSIGNED', channel: 'EMAIL', status: 'PENDING', error: "waiting for the recipient's e-mail address" },
      ]),
    ),
  );
  // The due-soon check neither sends it (no address) nor gives it up (not a day old).
  await runDueSoonCheck(createDueSoonStore(prisma), new Date(), { windowMs: 1, emailConfigured: true, sender });
  expect(await deliveriesOf(UNKNOWN, task.id)).toContainEqual({ kind: 'TASK_ASSIGNED', channel: 'EMAIL', status: 'PENDING', error: "waiting for the recipient's e-mail address" });

  await bus.publish([taskEvents.userRegistered(UNKNOWN, 'late@example.com', 'Lee Late')]);
  const mail = await eventually(async () => {
    const found = mailbox.find((each) => each.to.includes('late@example.com'));
    expect(found).toBeDefined();
    return found!;
  });
  expect(subjectOf(mail)).toBe('You were assigned "Early bird"');
  expect(mail.raw).toContain('Hello Lee Late');
  await eventually(async () =>
    expect(await deliveriesOf(UNKNOWN, task.id)).toContainEqual({ kind: 'TASK_ASSIGNED', channel: 'EMAIL', status: 'SENT', error: null }),
  );
  expect(mailbox.filter((each) => each.to.includes('late@example.com'))).toHaveLength(1);
});

it('sends a waiting e-mail whose address arrived in a concurrent transaction at the next check, and gives one up after a day', async () => {
  const LATE = '01JUSER00000000000000LATE0';
  const NEVER = '01JUSER0000000000000NEVER0';
  const store = createDueSoonStore(prisma);
  const waiting = async (recipientId: string, title: string) => {
    const notification = await prisma.notification.create({ data: { id: newTaskId(), recipientId, kind: 'TASK_ASSIGNED', title, body: `${title} body` } });
    return prisma.delivery.create({
      data: { id: newTaskId(), notificationId: notification.id, channel: 'EMAIL', status: 'PENDING', error: "waiting for the recipient's e-mail address" },
    });
  };
  // As left by a registration committed while the notification's transaction was open: the
  // registration's release did not see the delivery, and the address is known.
  const late = await waiting(LATE, 'Raced');
  await prisma.userContact.create({ data: { userId: LATE, email: 'raced@example.com', displayName: 'Ray Raced' } });
  const never = await waiting(NEVER, 'Nobody');
  await prisma.delivery.update({ where: { id: never.id }, data: { attemptedAt: new Date(Date.now() - 25 * 60 * 60 * 1000) } });

  const options = { windowMs: 1, emailConfigured: true, sender };
  await Promise.all([runDueSoonCheck(store, new Date(), options), runDueSoonCheck(store, new Date(), options)]);
  expect(mailbox.filter((each) => each.to.includes('raced@example.com'))).toHaveLength(1);
  expect(await prisma.delivery.findUnique({ where: { id: late.id } })).toMatchObject({ status: 'SENT', error: null });
  expect(await prisma.delivery.findUnique({ where: { id: never.id } })).toMatchObject({ status: 'SKIPPED', error: 'no e-mail address known for the recipient' });
});

it('e-mails a due-soon reminder once, however often the check runs', async () => {
  const now = new Date();
  const task: TaskFixture = { id: newTaskId(), title: 'Deadline', createdById: ALICE, assigneeId: BOB, dueAt: new Date(now.getTime() + 60_000) };
  await bus.publish([taskEvents.created(task)]);
  await eventually(async () => expect(await prisma.taskProjection.count({ where: { id: task.id } })).toBe(1));
  const store = createDueSoonStore(prisma);
  const options = { windowMs: 60 * 60_000, emailConfigured: true, sender };
  const created = await Promise.all([runDueSoonCheck(store, now, options), runDueSoonCheck(store, now, options)]);
  expect(created[0] + created[1]).toBe(1);
  const reminders = mailbox.filter((mail) => subjectOf(mail) === '"Deadline" is due soon');
  expect(reminders).toHaveLength(1);
  expect(reminders[0]?.to).toEqual(['bob@example.com']);
});

it('is wired by startNotificationService when SMTP_URL is set', async () => {
  const mode = getTestModes().at(-1)!;
  const harness = await createHarness(mode, 'notification-smtp');
  const service = await startNotificationService({
    config: loadNotificationConfig({ ...harness.env, SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, SMTP_FROM: 'Ops <ops@meridian.test>' }),
    bus: harness.bus,
  });
  try {
    const CARA = '01JUSER0000000000000000CAR';
    const task: TaskFixture = { id: newTaskId(), title: 'Wired up', createdById: ALICE, assigneeId: CARA };
    // Registration first, so that the e-mail is sent at once (an assignment handled before it
    // waits for the address: tested above).
    const registrationsBefore = await registrationsHandled(service.url);
    await harness.bus.publish([taskEvents.userRegistered(CARA, 'cara@example.com', 'Cara')]);
    await eventually(async () => expect(await registrationsHandled(service.url)).toBe(registrationsBefore + 1));
    await harness.bus.publish([taskEvents.created(task), taskEvents.assigned(task, null, ALICE)]);
    const mail = await eventually(async () => {
      const found = mailbox.find((each) => each.to.includes('cara@example.com'));
      expect(found).toBeDefined();
      return found!;
    });
    expect(mail.from).toBe('ops@meridian.test');
    expect(subjectOf(mail)).toBe('You were assigned "Wired up"');
  } finally {
    await service.stop();
    await harness.close();
  }
});
