import type { Static, TSchema } from '@sinclair/typebox'
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler'
import { InvalidSagaDefinitionError } from '../errors.js'
import type { BodyOf, MessageDefinition } from '../messages/define-message.js'
import { isMessageDefinition } from '../messages/define-message.js'
import type { SagaContext } from './saga-context.js'

export type SagaHandlerFunction<D extends MessageDefinition, Data> = (message: BodyOf<D>, context: SagaContext<Data>) => Promise<void> | void

export interface SagaHandler<Data = unknown> {
  readonly message: MessageDefinition
  readonly name: string
  readonly fn: SagaHandlerFunction<MessageDefinition, Data>
}

/** Pairs a message with the function that finds its saga instance: the correlation id. */
export interface Correlation {
  readonly message: MessageDefinition
  readonly by: (body: unknown) => string
}

/** `correlate(OrderPlaced, (message) => message.orderId)`: which instance a message belongs to. */
export function correlate<D extends MessageDefinition>(message: D, by: (body: BodyOf<D>) => string): Correlation {
  return Object.freeze({ message, by: by as (body: unknown) => string })
}

/** Registers saga handlers with the data type of their saga. */
export type SagaHandlerBuilder<Data> = <D extends MessageDefinition>(message: D, fn: SagaHandlerFunction<D, Data>, options?: { name?: string }) => SagaHandler<Data>

export interface SagaOptions<S extends TSchema> {
  /** Lower-case, unique within its module, e.g. `shipping-policy`. */
  name: string
  /** The saga's state; checked after every handler, before it is committed. */
  data: S
  /** The data of a new instance, when a `startedBy` message finds none. */
  create: (correlationId: string) => Static<S>
  /** One entry per message the saga handles (timeouts excepted: they know their instance). */
  correlation: readonly Correlation[]
  /** Messages that start an instance when none exists for their correlation id. */
  startedBy: readonly MessageDefinition[]
  handlers: (on: SagaHandlerBuilder<Static<S>>) => readonly SagaHandler<Static<S>>[]
  /** Handlers of the timeout messages the saga asks for with `context.requestTimeout`. */
  timeouts?: (on: SagaHandlerBuilder<Static<S>>) => readonly SagaHandler<Static<S>>[]
  /**
   * A message for an instance that does not exist (never started, or completed). The default logs it and
   * discards it: the message is consumed and nothing else happens.
   */
  notFound?: (message: unknown, context: { messageType: string; correlationId: string; log: SagaContext<unknown>['log'] }) => void | Promise<void>
}

export interface SagaDefinition<Data = unknown> {
  readonly name: string
  readonly create: (correlationId: string) => Data
  /** The first bad field when the data no longer matches the schema; undefined when it does. */
  readonly check: (data: unknown) => string | undefined
  readonly correlation: ReadonlyMap<string, (body: unknown) => string>
  readonly startedBy: ReadonlySet<string>
  readonly handlers: readonly SagaHandler<Data>[]
  readonly timeouts: readonly SagaHandler<Data>[]
  /** Every message definition the saga handles: its messages and its timeouts. */
  readonly messages: readonly MessageDefinition[]
  readonly notFound: SagaOptions<TSchema>['notFound']
}

const sagaNamePattern = /^[a-z][a-z0-9-]{0,62}$/

const builder = <Data>(): SagaHandlerBuilder<Data> => (message, fn, options = {}) =>
  Object.freeze({ message, fn: fn as SagaHandlerFunction<MessageDefinition, Data>, name: options.name ?? (fn.name || `handle${message.type}`) })

/**
 * A saga: state kept across messages, changed by its handlers and committed with the consumed mark and
 * the outgoing messages in one journal record (NServiceBus's Saga<TData>). Messages for one instance
 * are handled one at a time; instances run in parallel.
 */
export function defineSaga<S extends TSchema>(options: SagaOptions<S>): SagaDefinition<Static<S>> {
  if (typeof options?.name !== 'string' || !sagaNamePattern.test(options.name)) {
    throw new InvalidSagaDefinitionError('saga.name', 'a lower-case saga name like shipping-policy', options?.name)
  }
  const prefix = `sagas.${options.name}`
  if (typeof options.create !== 'function') throw new InvalidSagaDefinitionError(`${prefix}.create`, 'a function (correlationId) => initial data', options.create)
  if (typeof options.handlers !== 'function') throw new InvalidSagaDefinitionError(`${prefix}.handlers`, 'a function (on) => [on(Message, fn), ...]', options.handlers)
  const compiled: TypeCheck<S> = TypeCompiler.Compile(options.data)
  const handlers = options.handlers(builder<Static<S>>())
  const timeouts = options.timeouts?.(builder<Static<S>>()) ?? []
  const correlation = new Map<string, (body: unknown) => string>()
  for (const [index, entry] of (options.correlation ?? []).entries()) {
    if (!entry || !isMessageDefinition(entry.message) || typeof entry.by !== 'function') {
      throw new InvalidSagaDefinitionError(`${prefix}.correlation[${index}]`, 'made with correlate(Message, (message) => id)', entry)
    }
    correlation.set(entry.message.type, entry.by)
  }
  for (const [index, handler] of handlers.entries()) {
    if (!correlation.has(handler.message.type)) {
      throw new InvalidSagaDefinitionError(`${prefix}.correlation`, `an entry for ${handler.message.type}, which handlers[${index}] handles`, [...correlation.keys()])
    }
  }
  const startedBy = new Set<string>()
  for (const [index, message] of (options.startedBy ?? []).entries()) {
    if (!isMessageDefinition(message) || !handlers.some((handler) => handler.message === message)) {
      throw new InvalidSagaDefinitionError(`${prefix}.startedBy[${index}]`, 'a message the saga has a handler for', isMessageDefinition(message) ? message.type : message)
    }
    startedBy.add(message.type)
  }
  if (startedBy.size === 0) throw new InvalidSagaDefinitionError(`${prefix}.startedBy`, 'at least one message that starts the saga', options.startedBy)
  for (const [index, timeout] of timeouts.entries()) {
    if (correlation.has(timeout.message.type) || handlers.some((handler) => handler.message.type === timeout.message.type)) {
      throw new InvalidSagaDefinitionError(`${prefix}.timeouts[${index}]`, 'a message used only as this timeout', timeout.message.type)
    }
  }
  return Object.freeze({
    name: options.name,
    create: options.create,
    check(data: unknown) {
      if (compiled.Check(data)) return undefined
      const first = compiled.Errors(data).First()
      return first ? `${first.path || '/'}: ${first.message}` : 'does not match the schema'
    },
    correlation,
    startedBy,
    handlers,
    timeouts,
    messages: [...new Set([...handlers, ...timeouts].map((handler) => handler.message))],
    notFound: options.notFound,
  })
}
