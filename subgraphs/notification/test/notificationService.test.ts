/**
 * The notification service as it runs (startNotificationService on port 0) on its own database
 * and bus, in every test mode (embedded: PGlite + in-memory bus; distributed: PostgreSQL + Redis).
 * Task events are published as the task service publishes them; notifications are read over
 * real HTTP with real RS256 tokens.
 */
import { eventually, getTestModes } from '@meridian/testing';
import { loadNotificationConfig } from '../src/config';
import { startNotificationService, type NotificationServiceHandle } from '../src/service';
import {
  createClient,
  createHarness,
  errorOf,
  MY_NOTIFICATIONS,
  NOTIFICATION_FIELDS,
  newTaskId,
  taskEvents,
  type Harness,
  type TaskFixture,
} from './harness';

// ULID-shaped user ids.
const ALICE = '01JUSER00000000000000ALICE';
const BOB = '01JUSER000000000000000BOB0';
const CAROL = '01JUSER00000000000000CAROL';
const DAVE = '01JUSER000000000000000DAVE';
const EVE = '01JUSER0000000000000000EVE';
const FRED = '01JUSER000000000000000FRED';
const GINA = '01JUSER000000000000000GINA';
/** Receives a "barrier" notification: once it arrived, every earlier event of the same task was handled. */
const WITNESS = '01JUSER000000000000WITNESS';

const PREFERENCES = `{ myNotificationPreferences { kind channel enabled } }`;
const UPDATE_PREFERENCES = `mutation($input: UpdateNotificationPreferencesInput!) {
  updateNotificationPreferences(input: $input) { kind channel enabled }
}`;
const MARK_READ = `mutation($id: ID!) { markNotificationRead(id: $id) { ${NOTIFICATION_FIELDS} } }`;
const MARK_ALL_READ = `mutation { markAllNotificationsRead }`;
const ENTITIES = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Notification { id title recipient { id } } } }`;

describe.each(getTestModes())('notification service ($name)', (mode) => {
  let harness: Harness;
  let service: NotificationServiceHandle;
  const sqlLog: string[] = [];
  let client: ReturnType<typeof createClient>;

  beforeAll(async () => {
    harness = await createHarness(mode, 'notification-service');
    service = await startNotificationService({
      config: loadNotificationConfig(harness.env),
      bus: harness.bus,
      onQuery: (sql) => sqlLog.push(sql),
    });
    client = createClient(() => `${service.url}/graphql`, (userId) => harness.tokenFor(userId));
  });

  afterAll(async () => {
    await service?.stop();
    await harness?.close();
  });

  const publish = (...events: Parameters<typeof harness.bus.publish>[0][]) => harness.bus.publish(events.flat());

  /**
   * Publishes a comment by ALICE on `task` that notifies only WITNESS (made its assignee for the
   * comment) and waits for it: the bus keeps one task's events in order, so everything published
   * earlier for that task has been handled by then.
   */
  async function barrier(task: TaskFixture) {
    const marker = `barrier ${Math.random()}`;
    await publish(taskEvents.commented({ ...task, createdById: ALICE, assigneeId: WITNESS }, ALICE, marker));
    await eventually(async () => expect((await client.notificationsOf(WITNESS)).map((n) => n.body)).toContain(marker));
  }

  describe('sign-in and ownership', () => {
    it('answers UNAUTHENTICATED to anonymous callers', async () => {
      const reps = [{ __typename: 'User', id: ALICE }];
      const list = await client.gql(MY_NOTIFICATIONS, { reps });
      expect(list.errors?.map((error) => [error.path?.at(-1), error.extensions?.code]).sort()).toEqual([
        ['notifications', 'UNAUTHENTICATED'],
        ['unreadNotificationCount', 'UNAUTHENTICATED'],
      ]);
      expect(errorOf(await client.gql(PREFERENCES)).extensions?.code).toBe('UNAUTHENTICATED');
      expect(errorOf(await client.gql(MARK_ALL_READ)).extensions?.code).toBe('UNAUTHENTICATED');
      expect(errorOf(await client.gql(MARK_READ, { id: '01JQ0000000000000000000000' })).extensions?.code).toBe('UNAUTHENTICATED');
    });

    it("shows nobody else's notifications, count or preferences (null)", async () => {
      const task: TaskFixture = { id: newTaskId(), title: 'Private matter', createdById: ALICE, assigneeId: GINA };
      await publish(taskEvents.created(task), taskEvents.assigned(task, null, ALICE));
      await eventually(async () => expect(await client.notificationsOf(GINA)).toHaveLength(1));
      const data = await client.ok<any>(
        `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id notifications { edges { node { id } } } unreadNotificationCount notificationPreferences { kind } } } }`,
        { reps: [{ __typename: 'User', id: GINA }] },
        harness.tokenFor(BOB),
      );
      expect(data._entities).toEqual([{ id: GINA, notifications: null, unreadNotificationCount: null, notificationPreferences: null }]);
    });
  });

  describe('who is notified', () => {
    it('tells the new assignee, never the one who assigned', async () => {
      const task: TaskFixture = { id: newTaskId(), title: 'Book the venue', createdById: ALICE, assigneeId: BOB };
      await publish(taskEvents.created(task), taskEvents.assigned(task, null, ALICE));
      const [notification] = await eventually(async () => {
        const list = (await client.notificationsOf(BOB)).filter((n) => n.task?.id === task.id);
        expect(list).toHaveLength(1);
        return list;
      });
      expect(notification).toMatchObject({
        kind: 'TASK_ASSIGNED',
        title: 'You were assigned "Book the venue"',
        recipient: { id: BOB },
        task: { id: task.id },
        readAt: null,
      });
      // Assigning yourself notifies nobody.
      const selfAssigned = { ...task, assigneeId: CAROL };
      await publish(taskEvents.assigned(selfAssigned, BOB, CAROL));
      await barrier(task);
      expect((await client.notificationsOf(CAROL)).filter((n) => n.task?.id === task.id)).toEqual([]);
      expect((await client.notificationsOf(ALICE)).filter((n) => n.task?.id === task.id)).toEqual([]);
    });

    it('tells creator and assignee of a status change, each once, never the actor; other edits notify nobody', async () => {
      const task: TaskFixture = { id: newTaskId(), title: 'Ship it', createdById: ALICE, assigneeId: BOB };
      await publish(taskEvents.created(task));
      // The assignee moves it: only the creator hears of it.
      await publish(taskEvents.updated({ ...task, status: 'IN_PROGRESS' }, BOB, ['status'], 'TODO'));
      // Someone else finishes it: both hear of it.
      await publish(taskEvents.updated({ ...task, status: 'DONE' }, CAROL, ['status'], 'IN_PROGRESS'));
      // A title change is not a status change.
      await publish(taskEvents.updated({ ...task, title: 'Ship it now', status: 'DONE' }, CAROL, ['title'], 'DONE'));
      await barrier(task);
      const forAlice = (await client.notificationsOf(ALICE)).filter((n) => n.task?.id === task.id);
      const forBob = (await client.notificationsOf(BOB)).filter((n) => n.task?.id === task.id);
      const forCarol = (await client.notificationsOf(CAROL)).filter((n) => n.task?.id === task.id);
      expect(forAlice.map((n) => [n.kind, n.title])).toEqual([
        ['TASK_STATUS_CHANGED', '"Ship it" is now Done'],
        ['TASK_STATUS_CHANGED', '"Ship it" is now In progress'],
      ]);
      expect(forAlice[1]?.body).toBe('Status changed from To do to In progress.');
      expect(forBob.map((n) => n.title)).toEqual(['"Ship it" is now Done']);
      expect(forCarol).toEqual([]);
    });

    it('tells creator and assignee of a comment, once even when they are the same person, never the author', async () => {
      const own: TaskFixture = { id: newTaskId(), title: 'Solo work', createdById: DAVE, assigneeId: DAVE };
      await publish(taskEvents.created(own), taskEvents.commented(own, CAROL, 'Looks good to me'));
      const shared: TaskFixture = { id: newTaskId(), title: 'Team work', createdById: EVE, assigneeId: FRED };
      await publish(taskEvents.created(shared), taskEvents.commented(shared, EVE, 'Please review'));
      await eventually(async () => {
        expect((await client.notificationsOf(DAVE)).filter((n) => n.task?.id === own.id)).toHaveLength(1);
        expect((await client.notificationsOf(FRED)).filter((n) => n.task?.id === shared.id)).toHaveLength(1);
      });
      await barrier(own);
      await barrier(shared);
      const [forDave] = (await client.notificationsOf(DAVE)).filter((n) => n.task?.id === own.id);
      expect(forDave).toMatchObject({ kind: 'TASK_COMMENTED', title: 'New comment on "Solo work"', body: 'Looks good to me' });
      expect((await client.notificationsOf(FRED)).filter((n) => n.task?.id === shared.id)).toHaveLength(1);
      expect((await client.notificationsOf(EVE)).filter((n) => n.task?.id === shared.id)).toEqual([]);
      expect((await client.notificationsOf(CAROL)).filter((n) => n.task?.id === own.id)).toEqual([]);
    });

    it('handles a redelivered event once', async () => {
      const task: TaskFixture = { id: newTaskId(), title: 'Once only', createdById: ALICE, assigneeId: EVE };
      const assigned = taskEvents.assigned(task, null, ALICE);
      await publish(taskEvents.created(task), assigned);
      await publish(assigned);
      await publish(assigned);
      await barrier(task);
      expect((await client.notificationsOf(EVE)).filter((n) => n.task?.id === task.id)).toHaveLength(1);
    });
  });

  describe('reading and marking', () => {
    const READER = '01JUSER00000000000000READR';
    let ids: string[];

    beforeAll(async () => {
      const tasks: TaskFixture[] = Array.from({ length: 5 }, (_, index) => ({
        id: newTaskId(),
        title: `Reader task ${index}`,
        createdById: ALICE,
        assigneeId: READER,
      }));
      for (const task of tasks) await publish(taskEvents.created(task), taskEvents.assigned(task, null, ALICE));
      const list = await eventually(async () => {
        const all = await client.notificationsOf(READER);
        expect(all).toHaveLength(5);
        return all;
      });
      ids = list.map((n) => n.id);
    });

    it('pages newest first with an unread count', async () => {
      const seen: string[] = [];
      let after: string | null = null;
      let pages = 0;
      for (;;) {
        const data: any = await client.ok(MY_NOTIFICATIONS, { reps: [{ __typename: 'User', id: READER }], first: 2, after }, harness.tokenFor(READER));
        const connection = data._entities[0].notifications;
        expect(data._entities[0].unreadNotificationCount).toBe(5);
        seen.push(...connection.edges.map((edge: any) => edge.node.id));
        pages++;
        if (!connection.pageInfo.hasNextPage) break;
        after = connection.pageInfo.endCursor;
      }
      expect(seen).toEqual(ids);
      expect(pages).toBe(3);
      // Newest first: ids are ULIDs, so descending ids are descending creation times.
      expect([...ids].sort().reverse()).toEqual(ids);
    });

    it('rejects bad page arguments naming them', async () => {
      const tooMany = errorOf(await client.gql(MY_NOTIFICATIONS, { reps: [{ __typename: 'User', id: READER }], first: 101 }, harness.tokenFor(READER)));
      expect(tooMany.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
      const cursor = errorOf(await client.gql(MY_NOTIFICATIONS, { reps: [{ __typename: 'User', id: READER }], after: 'nope' }, harness.tokenFor(READER)));
      expect(cursor.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    });

    it("marks one read; someone else's or an unknown id is NOT_FOUND and changes nothing", async () => {
      const target = ids[1]!;
      const forbidden = errorOf(await client.gql(MARK_READ, { id: target }, harness.tokenFor(BOB)));
      expect(forbidden.extensions?.code).toBe('NOT_FOUND');
      const unknown = errorOf(await client.gql(MARK_READ, { id: '01JQ0000000000000000000000' }, harness.tokenFor(BOB)));
      expect(unknown.extensions?.code).toBe('NOT_FOUND');
      // Same answer for both: existence is not leaked.
      expect(forbidden.message.replace(target, 'ID')).toBe(unknown.message.replace('01JQ0000000000000000000000', 'ID'));
      const malformed = errorOf(await client.gql(MARK_READ, { id: 'not an id' }, harness.tokenFor(READER)));
      expect(malformed.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
      expect(await client.notificationsOf(READER, { unreadOnly: true })).toHaveLength(5);

      const { markNotificationRead } = await client.ok<any>(MARK_READ, { id: target }, harness.tokenFor(READER));
      expect(markNotificationRead).toMatchObject({ id: target, readAt: expect.stringMatching(/Z$/) });
      // Marking again keeps the first readAt.
      const again = await client.ok<any>(MARK_READ, { id: target }, harness.tokenFor(READER));
      expect(again.markNotificationRead.readAt).toBe(markNotificationRead.readAt);

      const unread = await client.notificationsOf(READER, { unreadOnly: true });
      expect(unread.map((n) => n.id)).toEqual(ids.filter((id) => id !== target));
      const data: any = await client.ok(MY_NOTIFICATIONS, { reps: [{ __typename: 'User', id: READER }] }, harness.tokenFor(READER));
      expect(data._entities[0].unreadNotificationCount).toBe(4);
    });

    it('marks all of mine read and nobody else’s', async () => {
      const bobUnreadBefore = (await client.notificationsOf(BOB, { unreadOnly: true })).length;
      expect(bobUnreadBefore).toBeGreaterThan(0);
      expect(await client.ok(MARK_ALL_READ, {}, harness.tokenFor(READER))).toEqual({ markAllNotificationsRead: 4 });
      expect(await client.notificationsOf(READER, { unreadOnly: true })).toEqual([]);
      expect(await client.notificationsOf(READER)).toHaveLength(5);
      expect(await client.notificationsOf(BOB, { unreadOnly: true })).toHaveLength(bobUnreadBefore);
      expect(await client.ok(MARK_ALL_READ, {}, harness.tokenFor(READER))).toEqual({ markAllNotificationsRead: 0 });
    });

    it("resolves N Notification references in one SQL query, someone else's as null", async () => {
      const reps = ids.map((id) => ({ __typename: 'Notification', id }));
      sqlLog.length = 0;
      const mine = await client.ok<any>(ENTITIES, { reps }, harness.tokenFor(READER));
      expect(mine._entities.map((entity: any) => entity.id)).toEqual(ids);
      expect(mine._entities[0].recipient).toEqual({ id: READER });
      // Only the reads of notifications: the outbox relay polls the same database in the background.
      expect(sqlLog.filter((sql) => sql.includes('"notifications"'))).toHaveLength(1);
      const theirs = await client.ok<any>(ENTITIES, { reps }, harness.tokenFor(BOB));
      expect(theirs._entities).toEqual(ids.map(() => null));
    });
  });

  describe('preferences', () => {
    it('lists every kind and channel, enabled by default', async () => {
      const { myNotificationPreferences } = await client.ok<any>(PREFERENCES, {}, harness.tokenFor(FRED));
      expect(myNotificationPreferences).toHaveLength(8);
      expect(myNotificationPreferences.every((p: any) => p.enabled)).toBe(true);
      expect(myNotificationPreferences).toContainEqual({ kind: 'TASK_DUE_SOON', channel: 'EMAIL', enabled: true });
    });

    it('stops in-app notifications of a kind the user turned off, and only that kind', async () => {
      const MUTED = '01JUSER00000000000000MUTED';
      const { updateNotificationPreferences } = await client.ok<any>(
        UPDATE_PREFERENCES,
        { input: { preferences: [{ kind: 'TASK_ASSIGNED', channel: 'IN_APP', enabled: false }, { kind: 'TASK_ASSIGNED', channel: 'EMAIL', enabled: false }] } },
        harness.tokenFor(MUTED),
      );
      expect(updateNotificationPreferences).toHaveLength(8);
      expect(updateNotificationPreferences).toContainEqual({ kind: 'TASK_ASSIGNED', channel: 'IN_APP', enabled: false });
      expect(updateNotificationPreferences).toContainEqual({ kind: 'TASK_COMMENTED', channel: 'IN_APP', enabled: true });

      const task: TaskFixture = { id: newTaskId(), title: 'Quiet please', createdById: ALICE, assigneeId: MUTED };
      await publish(taskEvents.created(task), taskEvents.assigned(task, null, ALICE), taskEvents.commented(task, ALICE, 'Still here'));
      await eventually(async () => expect((await client.notificationsOf(MUTED)).map((n) => n.kind)).toEqual(['TASK_COMMENTED']));
      await barrier(task);
      expect((await client.notificationsOf(MUTED)).map((n) => n.kind)).toEqual(['TASK_COMMENTED']);
    });

    it('rejects empty and duplicate preference lists naming the field, and changes nothing', async () => {
      const empty = errorOf(await client.gql(UPDATE_PREFERENCES, { input: { preferences: [] } }, harness.tokenFor(GINA)));
      expect(empty.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.preferences' });
      const twice = errorOf(
        await client.gql(
          UPDATE_PREFERENCES,
          { input: { preferences: [{ kind: 'TASK_DUE_SOON', channel: 'EMAIL', enabled: false }, { kind: 'TASK_DUE_SOON', channel: 'EMAIL', enabled: true }] } },
          harness.tokenFor(GINA),
        ),
      );
      expect(twice.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.preferences[1]' });
      const { myNotificationPreferences } = await client.ok<any>(PREFERENCES, {}, harness.tokenFor(GINA));
      expect(myNotificationPreferences.every((p: any) => p.enabled)).toBe(true);
    });
  });

  describe('due-soon reminders', () => {
    const HOUR = 60 * 60 * 1000;

    it('reminds the assignee (or the creator) once per task and due date, even when checks overlap', async () => {
      const now = new Date();
      const assigned: TaskFixture = { id: newTaskId(), title: 'Due for Fred', createdById: ALICE, assigneeId: FRED, dueAt: new Date(now.getTime() + HOUR) };
      const unassigned: TaskFixture = { id: newTaskId(), title: 'Due for Gina', createdById: GINA, assigneeId: null, dueAt: new Date(now.getTime() + 2 * HOUR) };
      const done: TaskFixture = { id: newTaskId(), title: 'Already done', createdById: GINA, dueAt: new Date(now.getTime() + HOUR), status: 'DONE' };
      const later: TaskFixture = { id: newTaskId(), title: 'Next week', createdById: GINA, dueAt: new Date(now.getTime() + 7 * 24 * HOUR) };
      const deleted: TaskFixture = { id: newTaskId(), title: 'Gone', createdById: GINA, dueAt: new Date(now.getTime() + HOUR) };
      for (const task of [assigned, unassigned, done, later, deleted]) await publish(taskEvents.created(task));
      await publish(taskEvents.deleted(deleted, GINA));
      for (const task of [assigned, unassigned, done, later, deleted]) await barrier(task);

      const [first, second] = await Promise.all([service.runDueSoonCheck(now), service.runDueSoonCheck(now)]);
      expect(first + second).toBe(2);
      expect(await service.runDueSoonCheck(now)).toBe(0);

      const fred = (await client.notificationsOf(FRED)).filter((n) => n.kind === 'TASK_DUE_SOON');
      expect(fred).toHaveLength(1);
      expect(fred[0]).toMatchObject({ title: '"Due for Fred" is due soon', task: { id: assigned.id } });
      expect((await client.notificationsOf(GINA)).filter((n) => n.kind === 'TASK_DUE_SOON').map((n) => n.task?.id)).toEqual([unassigned.id]);
      expect((await client.notificationsOf(ALICE)).filter((n) => n.kind === 'TASK_DUE_SOON')).toEqual([]);

      // A new due date is a new reminder; finishing the task stops them.
      const moved = { ...assigned, dueAt: new Date(now.getTime() + 3 * HOUR) };
      await publish(taskEvents.updated(moved, ALICE, ['dueAt'], 'TODO'));
      await publish(taskEvents.updated({ ...unassigned, status: 'DONE' }, GINA, ['status'], 'TODO'));
      await barrier(moved);
      await barrier(unassigned);
      expect(await service.runDueSoonCheck(now)).toBe(1);
      expect((await client.notificationsOf(FRED)).filter((n) => n.kind === 'TASK_DUE_SOON')).toHaveLength(2);
    });

    if (mode.name === 'distributed') {
      it('creates a reminder once when two service instances on one database check at the same moment', async () => {
        const replica = await startNotificationService({ config: loadNotificationConfig(harness.env), bus: harness.createBus() });
        try {
          const now = new Date();
          const tasks: TaskFixture[] = Array.from({ length: 4 }, (_, index) => ({
            id: newTaskId(),
            title: `Replicated ${index}`,
            createdById: ALICE,
            assigneeId: EVE,
            dueAt: new Date(now.getTime() + HOUR + index),
          }));
          for (const task of tasks) await publish(taskEvents.created(task));
          for (const task of tasks) await barrier(task);
          const results = await Promise.all([service.runDueSoonCheck(now), replica.runDueSoonCheck(now), service.runDueSoonCheck(now), replica.runDueSoonCheck(now)]);
          expect(results.reduce((sum, count) => sum + count, 0)).toBe(4);
          const reminders = (await client.notificationsOf(EVE)).filter((n) => n.kind === 'TASK_DUE_SOON');
          expect(reminders.map((n) => n.task?.id).sort()).toEqual(tasks.map((task) => task.id).sort());
        } finally {
          await replica.stop();
        }
      });
    }
  });
});
