import { defineEvent, createEventRegistry, type EnvelopeOf } from '@meridian/event-bridge';
import { z } from 'zod';

// Ids are opaque strings: each service chooses its id format.
const id = z.string().min(1);
const isoDateTime = z.iso.datetime({ offset: true });

export const roleSchema = z.enum(['ADMIN', 'MEMBER', 'VIEWER']);
export type Role = z.infer<typeof roleSchema>;

export const taskStatusSchema = z.enum(['TODO', 'IN_PROGRESS', 'DONE']);
export const taskPrioritySchema = z.enum(['LOW', 'MEDIUM', 'HIGH', 'URGENT']);
export type TaskStatus = z.infer<typeof taskStatusSchema>;
export type TaskPriority = z.infer<typeof taskPrioritySchema>;

/** Fields a consumer may care about when a task changes (task.updated lists which ones did). */
export const taskFieldSchema = z.enum(['title', 'description', 'status', 'priority', 'dueAt', 'projectId']);

// Task events carry the task's current snapshot, so notification and analytics consumers can build
// their read models without calling the task service. `occurredAt` lives in the envelope.
const taskSnapshot = {
  taskId: id,
  /** Null for a task outside any project. */
  projectId: id.nullable(),
  title: z.string().min(1),
  priority: taskPrioritySchema,
  dueAt: isoDateTime.nullable(),
  createdById: id,
  assigneeId: id.nullable(),
  /** Who did it (the user of the mutation). */
  actorId: id,
};

export const userRegisteredV1 = defineEvent({
  type: 'auth.user-registered',
  version: 1,
  source: 'auth',
  description: 'A user signed up: credentials exist, the profile is created by the user service.',
  schema: z.object({ userId: id, email: z.email(), displayName: z.string().min(1) }),
  aggregateId: (payload) => payload.userId,
});

export const profileCreatedV1 = defineEvent({
  type: 'user.profile-created',
  version: 1,
  source: 'user',
  description: 'The user service created the profile of a registered user.',
  schema: z.object({ userId: id }),
  aggregateId: (payload) => payload.userId,
});

export const taskCreatedV1 = defineEvent({
  type: 'task.created',
  version: 1,
  source: 'task',
  description: 'A task was created (with its full snapshot; an assigned task also emits task.assigned).',
  schema: z.object({ ...taskSnapshot, status: taskStatusSchema }),
  aggregateId: (payload) => payload.taskId,
});

export const taskUpdatedV1 = defineEvent({
  type: 'task.updated',
  version: 1,
  source: 'task',
  description: 'Fields of a task changed (assignment has its own event, task.assigned).',
  schema: z.object({
    ...taskSnapshot,
    changedFields: z.array(taskFieldSchema).min(1),
    previousStatus: taskStatusSchema,
    newStatus: taskStatusSchema,
  }),
  aggregateId: (payload) => payload.taskId,
});

export const taskAssignedV1 = defineEvent({
  type: 'task.assigned',
  version: 1,
  source: 'task',
  description: 'The assignee changed; assigneeId null means unassigned.',
  schema: z.object({
    taskId: id,
    projectId: id.nullable(),
    title: z.string().min(1),
    assigneeId: id.nullable(),
    previousAssigneeId: id.nullable(),
    actorId: id,
  }),
  aggregateId: (payload) => payload.taskId,
});

export const taskDeletedV1 = defineEvent({
  type: 'task.deleted',
  version: 1,
  source: 'task',
  description: 'A task was deleted; read models drop it.',
  schema: z.object({
    taskId: id,
    projectId: id.nullable(),
    title: z.string().min(1),
    status: taskStatusSchema,
    createdById: id,
    assigneeId: id.nullable(),
    actorId: id,
  }),
  aggregateId: (payload) => payload.taskId,
});

export const userSignedInV1 = defineEvent({
  type: 'auth.signed-in',
  version: 1,
  source: 'auth',
  description: 'A user started a session (log-in; sign-up emits auth.user-registered instead).',
  schema: z.object({ userId: id, sessionId: id }),
  aggregateId: (payload) => payload.userId,
});

export const taskCommentAddedV1 = defineEvent({
  type: 'task.comment-added',
  version: 1,
  source: 'task',
  description: 'Someone commented on a task. Carries who is involved so consumers need no lookup.',
  schema: z.object({
    commentId: id,
    taskId: id,
    projectId: id.nullable(),
    title: z.string().min(1),
    createdById: id,
    assigneeId: id.nullable(),
    /** The comment's author. */
    actorId: id,
    /** The start of the comment (at most 280 characters), for notifications. */
    excerpt: z.string().min(1).max(280),
  }),
  aggregateId: (payload) => payload.taskId,
});

export const rolesChangedV1 = defineEvent({
  type: 'auth.roles-changed',
  version: 1,
  source: 'auth',
  description:
    "A user's roles changed (setUserRoles, or ADMIN granted at sign-up to a bootstrap admin, right after auth.user-registered). " +
    'roles is the complete new set; actorId is null when the system did it.',
  schema: z.object({
    userId: id,
    roles: z.array(roleSchema).min(1),
    previousRoles: z.array(roleSchema),
    /** The admin who changed them; null for the sign-up bootstrap. */
    actorId: id.nullable(),
  }),
  aggregateId: (payload) => payload.userId,
});

export const passwordResetRequestedV1 = defineEvent({
  type: 'auth.password-reset-requested',
  version: 1,
  source: 'auth',
  description:
    'Someone asked to reset the password of a known account; the notification service e-mails the link. ' +
    'SECRET: the payload holds the raw single-use reset token. Consumers must never log payloads of this type ' +
    'nor store the token (send it and forget it).',
  schema: z.object({
    userId: id,
    email: z.email(),
    /** The raw reset token (only its hash is stored by auth). Never log or persist it. */
    token: z.string().min(1),
    /** When the token stops working (ISO-8601). */
    expiresAt: isoDateTime,
  }),
  aggregateId: (payload) => payload.userId,
});

export const notificationCreatedV1 = defineEvent({
  type: 'notification.created',
  version: 1,
  source: 'notification',
  description: 'An in-app notification was created for a user (feeds Subscription.notificationReceived).',
  schema: z.object({ notificationId: id, recipientId: id, kind: z.string().min(1), taskId: id.nullable() }),
  aggregateId: (payload) => payload.recipientId,
});

export const statsUpdatedV1 = defineEvent({
  type: 'analytics.stats-updated',
  version: 1,
  source: 'analytics',
  description: 'The analytics read models changed (feeds Subscription.statsUpdated). Carries the UTC day affected.',
  schema: z.object({ day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/), causeEventId: id, causeType: z.string().min(1) }),
  aggregateId: (payload) => payload.day,
});

/** Current version of each type: what producers emit. Older versions stay in `domainEventRegistry`. */
export const domainEventCatalogue = {
  'auth.user-registered': userRegisteredV1,
  'user.profile-created': profileCreatedV1,
  'task.created': taskCreatedV1,
  'task.updated': taskUpdatedV1,
  'task.assigned': taskAssignedV1,
  'task.deleted': taskDeletedV1,
  'task.comment-added': taskCommentAddedV1,
  'auth.signed-in': userSignedInV1,
  'auth.roles-changed': rolesChangedV1,
  'auth.password-reset-requested': passwordResetRequestedV1,
  'notification.created': notificationCreatedV1,
  'analytics.stats-updated': statsUpdatedV1,
} as const;

/** Every version consumers accept (validated on publish and on consume). */
export const domainEventRegistry = createEventRegistry([
  notificationCreatedV1,
  statsUpdatedV1,
  userRegisteredV1,
  profileCreatedV1,
  taskCreatedV1,
  taskUpdatedV1,
  taskAssignedV1,
  taskDeletedV1,
  taskCommentAddedV1,
  userSignedInV1,
  rolesChangedV1,
  passwordResetRequestedV1,
]);

export type DomainEventCatalogue = typeof domainEventCatalogue;
export type DomainEventType = keyof DomainEventCatalogue;
/** Union of every domain event envelope; narrow it with `event.type`. */
export type DomainEvent = EnvelopeOf<DomainEventCatalogue[DomainEventType]>;
/** The envelope of one type. */
export type DomainEventOf<T extends DomainEventType> = Extract<DomainEvent, { type: T }>;
/** What a producer passes as payload (schema input). */
export type DomainEventPayload<T extends DomainEventType> = z.input<DomainEventCatalogue[T]['schema']>;
