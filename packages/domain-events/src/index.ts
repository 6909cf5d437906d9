export {
  domainEventCatalogue,
  domainEventRegistry,
  passwordResetRequestedV1,
  profileCreatedV1,
  roleSchema,
  rolesChangedV1,
  taskAssignedV1,
  taskCreatedV1,
  taskDeletedV1,
  notificationCreatedV1,
  statsUpdatedV1,
  taskCommentAddedV1,
  userSignedInV1,
  taskFieldSchema,
  taskPrioritySchema,
  taskStatusSchema,
  taskUpdatedV1,
  userRegisteredV1,
} from './catalogue';
export type {
  DomainEvent,
  DomainEventCatalogue,
  DomainEventOf,
  DomainEventPayload,
  DomainEventType,
  Role,
  TaskPriority,
  TaskStatus,
} from './catalogue';
export {
  createDomainEvent,
  createPlatformEventBus,
  isDomainEvent,
  parseEvent,
  validateEvent,
} from './domainEvents';
export type { CreateDomainEventInput, PlatformEventBusOptions, ValidateEventResult } from './domainEvents';
export { renderEventDocs } from './docs';
