export { EventValidationError, createEventId, envelopeSchema } from './envelope';
export type { EventEnvelope } from './envelope';
export { createEnvelope, createEventRegistry, defineEvent } from './registry';
export type { CreateEnvelopeOptions, EnvelopeOf, EventDefinition, EventRegistry } from './registry';
export { consoleLogger } from './eventBus';
export type {
  BatchDeliveryContext,
  BatchEventBus,
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
  SubscribeBatchOptions,
  SubscribeOptions,
  Subscription,
} from './eventBus';
export { createInMemoryEventBus } from './inMemoryEventBus';
export type { InMemoryEventBusOptions } from './inMemoryEventBus';
export { createRedisEventBus } from './redisEventBus';
export type { RedisEventBusOptions } from './redisEventBus';
export { createOutboxRelay, handleBatchOnce, handleOnce, writeOutbox } from './outbox';
export type {
  HandleBatchOnceResult,
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
export { OUTBOX_INBOX_TABLES_SQL } from './tables';
