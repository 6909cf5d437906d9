import { EventValidationError, createInMemoryEventBus } from '@meridian/event-bridge';
import { createDomainEvent, domainEventRegistry, isDomainEvent, parseEvent, validateEvent, type DomainEvent } from '../src/index';

const task = {
  taskId: 't1',
  projectId: 'p1',
  title: 'Write the ADR',
  priority: 'HIGH',
  dueAt: '2026-12-01T09:00:00.000Z',
  createdById: 'u1',
  assigneeId: null,
  actorId: 'u1',
} as const;

test('createDomainEvent fills source, version and aggregate from the catalogue', () => {
  const event = createDomainEvent('auth.user-registered', { payload: { userId: 'u1', email: 'ada@example.com', displayName: 'Ada' } });
  expect(event).toMatchObject({ type: 'auth.user-registered', version: 1, source: 'auth', aggregateId: 'u1' });
  expect(event.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  expect(parseEvent(JSON.parse(JSON.stringify(event)))).toEqual(event);
});

test('a bad payload is rejected naming the type and the field', () => {
  expect(() => createDomainEvent('task.created', { payload: { ...task, status: 'DOING' as 'TODO' } })).toThrow(
    /task\.created.*payload\.status/,
  );
  const result = validateEvent({ ...createDomainEvent('user.profile-created', { payload: { userId: 'u1' } }), payload: {} });
  expect(result.success).toBe(false);
  if (!result.success) expect(result.error.message).toMatch(/user\.profile-created.*payload\.userId/);
});

test('a source or aggregate that contradicts the catalogue is refused', () => {
  expect(() => createDomainEvent('user.profile-created', { source: 'auth', payload: { userId: 'u1' } })).toThrow(EventValidationError);
  expect(() => createDomainEvent('user.profile-created', { aggregateId: 'u2', payload: { userId: 'u1' } })).toThrow(/aggregateId/);
  expect(createDomainEvent('user.profile-created', { source: 'user', aggregateId: 'u1', payload: { userId: 'u1' } }).aggregateId).toBe('u1');
});

test('task events carry what notification and analytics consumers need', async () => {
  const bus = createInMemoryEventBus({ registry: domainEventRegistry });
  const seen: DomainEvent[] = [];
  await bus.subscribe({ group: 'analytics', types: ['task.updated', 'task.assigned'], handler: async (event) => void seen.push(event) });
  await bus.publish([
    createDomainEvent('task.updated', {
      payload: { ...task, changedFields: ['status'], previousStatus: 'TODO', newStatus: 'IN_PROGRESS' },
    }),
    createDomainEvent('task.assigned', {
      payload: { taskId: 't1', projectId: 'p1', title: task.title, assigneeId: 'u2', previousAssigneeId: null, actorId: 'u1' },
    }),
  ]);
  const deadline = Date.now() + 5000;
  while (seen.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  const [updated, assigned] = seen;
  expect(updated && isDomainEvent(updated, 'task.updated') && updated.payload.newStatus).toBe('IN_PROGRESS');
  expect(assigned && isDomainEvent(assigned, 'task.assigned') && assigned.payload.assigneeId).toBe('u2');
  await bus.close();
});

test('auth.roles-changed takes known roles only, and a null actor for the system', () => {
  const event = createDomainEvent('auth.roles-changed', { payload: { userId: 'u1', roles: ['ADMIN'], previousRoles: ['MEMBER'], actorId: null } });
  expect(event).toMatchObject({ source: 'auth', aggregateId: 'u1', payload: { roles: ['ADMIN'], actorId: null } });
  expect(() =>
    createDomainEvent('auth.roles-changed', { payload: { userId: 'u1', roles: ['ROOT' as 'ADMIN'], previousRoles: [], actorId: 'u2' } }),
  ).toThrow(/auth\.roles-changed.*payload\.roles/);
  expect(() => createDomainEvent('auth.roles-changed', { payload: { userId: 'u1', roles: [], previousRoles: [], actorId: 'u2' } })).toThrow(
    EventValidationError,
  );
});

test('auth.password-reset-requested needs an ISO expiry, and a validation error does not echo the token', () => {
  const payload = { userId: 'u1', email: 'ada@example.com', token: 'secret-token-value', expiresAt: '2026-12-01T09:30:00.000Z' };
  expect(createDomainEvent('auth.password-reset-requested', { payload }).aggregateId).toBe('u1');
  let message = '';
  try {
    createDomainEvent('auth.password-reset-requested', { payload: { ...payload, expiresAt: 'tomorrow' } });
  } catch (error) {
    message = (error as Error).message;
  }
  expect(message).toMatch(/payload\.expiresAt/);
  expect(message).not.toContain(payload.token);
});
