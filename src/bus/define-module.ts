import { InvalidBehaviorError, InvalidModuleOptionError } from './errors.js'
import { isFaultInjection } from './faults/fault-injection.js'
import type { EventDefinition } from './messages/define-message.js'
import { isMessageDefinition } from './messages/define-message.js'
import { requireWhole, resolveRecoverability, type RecoverabilityOptions } from './recoverability/policy.js'
import type { SagaDefinition } from './sagas/define-saga.js'
import { isTableDefinition, type TableDefinition } from './data/define-table.js'
import { requireBehaviors, type Behavior } from './pipeline/behavior.js'
import type { Handler } from './endpoint/handle.js'
import type { ModuleDefinition } from './endpoint/module-definition.js'

export interface ModuleOptions {
  /** Lower-case, e.g. `sales`; also the name of its journal directory. */
  name: string
  /** @default [] (a module may consist of sagas only) */
  handlers?: readonly Handler<any>[]
  /** Long-running workflows with durable state (defineSaga). Their messages subscribe the module like handlers do. */
  sagas?: readonly SagaDefinition<any>[]
  /**
   * The module's own durable data: tables made with defineTable, reached in handlers with
   * `context.table(Table)` and outside them, read-only, with `bus.table(Table)`.
   * @default []
   * @example { tables: [Orders] }
   */
  tables?: readonly TableDefinition<any>[]
  /** Events this module publishes without handling them itself; publishing an undeclared, unhandled event is an error. */
  publishes?: readonly EventDefinition[]
  /**
   * Messages handled at the same time at most (load levelling).
   * @default 4
   */
  concurrency?: number
  /**
   * Messages started per second at most (load levelling for a rate-limited downstream, like a payment
   * gateway). The backlog waits in the queue.
   * @default unlimited
   * @example { maxPerSecond: 40 }
   */
  maxPerSecond?: number
  /** @default 3 immediate retries, then delayed retries after 2 s, 4 s, 8 s */
  recoverability?: RecoverabilityOptions
  /**
   * Steps around this module's handlers (defineBehavior), inside the bus's own; the first is outermost.
   * @default []
   */
  behaviors?: readonly Behavior[]
}

const moduleNamePattern = /^[a-z][a-z0-9-]{0,62}$/

export function defineModule(options: ModuleOptions): ModuleDefinition {
  if (typeof options.name !== 'string' || !moduleNamePattern.test(options.name)) {
    throw new InvalidModuleOptionError('name', 'a lower-case module name like sales or order-history', options.name)
  }
  const prefix = `modules.${options.name}`
  const handlers = options.handlers ?? []
  if (!Array.isArray(handlers)) throw new InvalidModuleOptionError(`${prefix}.handlers`, 'an array of handle(...) results', handlers)
  for (const [index, handler] of handlers.entries()) {
    if (!handler || !isMessageDefinition(handler.message) || typeof handler.fn !== 'function') {
      throw new InvalidModuleOptionError(`${prefix}.handlers[${index}]`, 'made with handle(Message, fn)', handler)
    }
  }
  const sagas = options.sagas ?? []
  if (!Array.isArray(sagas)) throw new InvalidModuleOptionError(`${prefix}.sagas`, 'an array of defineSaga(...) results', sagas)
  const sagaNames = new Set<string>()
  for (const [index, saga] of sagas.entries()) {
    if (!saga || typeof saga.name !== 'string' || !(saga.correlation instanceof Map)) {
      throw new InvalidModuleOptionError(`${prefix}.sagas[${index}]`, 'made with defineSaga({...})', saga)
    }
    if (sagaNames.has(saga.name)) throw new InvalidModuleOptionError(`${prefix}.sagas[${index}]`, 'a saga name not used twice in the module', saga.name)
    sagaNames.add(saga.name)
  }
  const tables = options.tables ?? []
  if (!Array.isArray(tables)) throw new InvalidModuleOptionError(`${prefix}.tables`, 'an array of defineTable(...) results', tables)
  const tableNames = new Set<string>()
  for (const [index, table] of tables.entries()) {
    if (!isTableDefinition(table)) throw new InvalidModuleOptionError(`${prefix}.tables[${index}]`, 'made with defineTable(name, schema)', table)
    if (tableNames.has(table.name)) throw new InvalidModuleOptionError(`${prefix}.tables[${index}]`, 'a table name not used twice in the module', table.name)
    tableNames.add(table.name)
  }
  const concurrency = options.concurrency ?? 4
  requireWhole(`${prefix}.concurrency`, concurrency, 1, InvalidModuleOptionError)
  if (options.maxPerSecond !== undefined && (typeof options.maxPerSecond !== 'number' || !(options.maxPerSecond > 0) || !Number.isFinite(options.maxPerSecond))) {
    throw new InvalidModuleOptionError(`${prefix}.maxPerSecond`, 'a number > 0', options.maxPerSecond)
  }
  const publishes = options.publishes ?? []
  for (const [index, event] of publishes.entries()) {
    if (!isMessageDefinition(event) || event.kind !== 'event') {
      throw new InvalidModuleOptionError(`${prefix}.publishes[${index}]`, 'an event made with defineEvent', event)
    }
  }
  const behaviors = requireBehaviors(`${prefix}.behaviors`, options.behaviors)
  // The admin API's setFault finds fault injection among the bus's behaviors: one given to a module would never be switched on.
  const faults = behaviors.findIndex(isFaultInjection)
  if (faults >= 0) throw new InvalidBehaviorError(`${prefix}.behaviors[${faults}]`, 'a behavior of the module; faultInjection() belongs to the bus: createBus({ behaviors: [faultInjection()] })', 'faultInjection()')
  return Object.freeze({
    name: options.name,
    handlers: [...handlers],
    sagas: [...sagas],
    tables: [...tables],
    publishes: [...publishes],
    concurrency,
    maxPerSecond: options.maxPerSecond,
    recoverability: resolveRecoverability(options.recoverability, `${prefix}.recoverability`),
    behaviors,
  })
}
