/**
 * `mailroom`: the bus. What each name is for is in the README ("What the package exports"); the test kit
 * is `mailroom/testing`, the RabbitMQ transport `mailroom/amqp`.
 */
export { createBus, type Bus, type BusOptions, type SendResult, type StartReport } from './create-bus.js'
export { defineCommand, defineEvent, type BodyOf, type CommandDefinition, type EventDefinition, type MessageDefinition } from './messages/define-message.js'
export type { Envelope, MessageKind } from './messages/envelope.js'
/** The names of the headers Mailroom sets on every message (`mailroom.message-id`, …); not fetch's Headers. */
export { Headers as MessageHeaders } from './messages/headers.js'
export { defineModule, type ModuleDefinition, type ModuleOptions } from './endpoint/define-module.js'
export { handle, type Handler, type HandlerFunction } from './endpoint/handle.js'
export type { HandlerContext, Logger, SendOptions } from './endpoint/handler-context.js'
export { defineSaga, correlate, type SagaDefinition, type SagaOptions, type SagaHandler, type SagaHandlerBuilder } from './sagas/define-saga.js'
export type { SagaContext } from './sagas/saga-context.js'
export { defineTable, type TableDefinition, type DocumentOf } from './data/define-table.js'
export type { Table, TableReader, ListOptions, Page } from './data/table.js'
export type { ConversationStep, StepOutcome } from './audit/conversation-step.js'
export type { AdminApi, DeleteResult, ModuleInstance, ModuleStatus, RetryResult, SagaInstanceView } from './admin/admin-api.js'
export type { FailedMessage } from './recoverability/error-queue.js'
export type { RecoverabilityOptions, RetrySchedule } from './recoverability/policy.js'
export type { FailureRecord } from './outbox/record.js'
export type { Clock } from './clock.js'
export type { FileSystem } from './outbox/file-system.js'
export { createNodeFileSystem } from './outbox/file-system.js'
export { createMemoryFileSystem } from './outbox/memory-file-system.js'
export type { BusSignals, BusSignalsListener, DeliverySignal, LogLine, LogLevel } from './signals.js'
export * from './errors.js'
export type { Transport, TransportStatus } from './transport/transport.js'
