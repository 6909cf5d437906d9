export { EventValidationError, createEventId, envelopeSchema } from './envelope';
export type { EventEnvelope } from './envelope';
export { createEnvelope, createEventRegistry, defineEvent } from './registry';
export type { CreateEnvelopeOptions, EnvelopeOf, EventDefinition, EventRegistry } from './registry';
export { consoleLogger } from './eventBus';
export type {
  DeadLetter,
  DeliveryContext,
  EventBus,
  EventBusLogger,
  EventBusOptions,
  EventOfType,
  ListenOptions,
  ReplayOptions,
  ReplayResult,
  RetryOptions,
  SubscribeOptions,
  Subscription,
} from './eventBus';
export { createInMemoryEventBus } from './inMemoryEventBus';
export type { InMemoryEventBusOptions } from './inMemoryEventBus';
export { createRedisEventBus } from './redisEventBus';
export type { RedisEventBusOptions } from './redisEventBus';
export { createOutboxRelay, handleOnce, writeOutbox } from './outbox';
export type {
  HandleOnceResult,
  OutboxEventRow,
  OutboxJsonObject,
  OutboxJsonValue,
  OutboxRelay,
  OutboxRelayOptions,
  OutboxWriter,
  RawSqlClient,
  TransactionRunner,
} from './outbox';
export { partitionOf } from './internal';
