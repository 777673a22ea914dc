import type { EventDefinition, MessageDefinition } from '../messages/define-message.js'
import type { RecoverabilityConfig } from '../recoverability/policy.js'
import type { SagaDefinition } from '../sagas/define-saga.js'
import type { TableDefinition } from '../data/define-table.js'
import type { Behavior } from '../pipeline/behavior.js'
import type { Handler } from './handle.js'

/**
 * A module as defineModule resolved it (every option checked, every default applied): what the parts of the
 * bus that run a module read. defineModule, which makes it, sits above them (src/bus/define-module.ts).
 */
export interface ModuleDefinition {
  readonly name: string
  readonly handlers: readonly Handler<MessageDefinition>[]
  readonly sagas: readonly SagaDefinition[]
  readonly tables: readonly TableDefinition[]
  readonly publishes: readonly EventDefinition[]
  readonly concurrency: number
  readonly maxPerSecond: number | undefined
  readonly recoverability: RecoverabilityConfig
  readonly behaviors: readonly Behavior[]
}
