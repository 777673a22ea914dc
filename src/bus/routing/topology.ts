import {
  DuplicateMessageTypeError,
  DuplicateModuleError,
  InvalidBusOptionError,
  InvalidMessageDefinitionError,
  InvalidRouteError,
  MessageKindMismatchError,
  NoReplyAddressError,
  RouteNotFoundError,
  UnknownMessageTypeError,
} from '../errors.js'
import type { Handler } from '../endpoint/handle.js'
import type { ModuleDefinition } from '../endpoint/module-definition.js'
import { isMessageDefinition, type MessageDefinition } from '../messages/define-message.js'
import type { SagaDefinition } from '../sagas/define-saga.js'

/** Command type → the module that owns it, like NServiceBus's RouteToEndpoint. */
export type Routes = Readonly<Record<string, string>>

/**
 * Who gets what: commands by the central routes table, events by subscription (a module that handles
 * an event is subscribed to it). Built once from the modules; every lookup is a Map hit.
 */
export interface Topology {
  readonly modules: ReadonlyMap<string, ModuleDefinition>
  /** Module → message type → its handlers, in declaration order. */
  readonly handlers: ReadonlyMap<string, ReadonlyMap<string, readonly Handler[]>>
  /** Module → message type → the sagas that handle it (timeouts included). */
  readonly sagas: ReadonlyMap<string, ReadonlyMap<string, readonly SagaDefinition[]>>
  /** Event type → the modules subscribed to it (a broker binds their queues to it). */
  readonly subscribers: ReadonlyMap<string, readonly string[]>
  definition(type: string): MessageDefinition | undefined
  /** Throws the caller error for a definition the bus does not know, or one whose name another definition took. */
  requireKnown(definition: unknown): MessageDefinition
  destinationsForSend(definition: MessageDefinition): string[]
  destinationsForPublish(definition: MessageDefinition): string[]
  destinationsForReply(definition: MessageDefinition, replyTo: string | undefined): string[]
}

export function createTopology(modules: readonly ModuleDefinition[], routes: Routes): Topology {
  const byName = new Map<string, ModuleDefinition>()
  const definitions = new Map<string, MessageDefinition>()
  const handlers = new Map<string, Map<string, Handler[]>>()
  const subscribers = new Map<string, string[]>()
  const sagas = new Map<string, Map<string, SagaDefinition[]>>()
  const subscribe = (type: string, module: string) => {
    const list = subscribers.get(type) ?? []
    if (!list.includes(module)) subscribers.set(type, [...list, module])
  }

  const register = (definition: MessageDefinition) => {
    const existing = definitions.get(definition.type)
    if (existing && existing !== definition) throw new DuplicateMessageTypeError(definition.type)
    definitions.set(definition.type, definition)
  }

  for (const module of modules) {
    if (byName.has(module.name)) throw new DuplicateModuleError(module.name)
    byName.set(module.name, module)
    const own = new Map<string, Handler[]>()
    handlers.set(module.name, own)
    for (const handler of module.handlers) {
      register(handler.message)
      const list = own.get(handler.message.type) ?? []
      list.push(handler)
      own.set(handler.message.type, list)
      if (handler.message.kind === 'event') subscribe(handler.message.type, module.name)
    }
    const bySaga = new Map<string, SagaDefinition[]>()
    sagas.set(module.name, bySaga)
    for (const saga of module.sagas) {
      for (const message of saga.messages) {
        register(message)
        bySaga.set(message.type, [...(bySaga.get(message.type) ?? []), saga])
      }
      // Timeouts come back to the module that asked for them; they subscribe nobody.
      for (const handler of saga.handlers) if (handler.message.kind === 'event') subscribe(handler.message.type, module.name)
    }
    for (const event of module.publishes) register(event)
  }

  const routeTable = new Map<string, string>()
  if (typeof routes !== 'object' || routes === null) throw new InvalidBusOptionError('routes', 'an object like { PlaceOrder: "sales" }', routes)
  for (const [type, moduleName] of Object.entries(routes)) {
    const module = byName.get(moduleName)
    if (!module) throw new InvalidRouteError(type, `there is no module named '${moduleName}'`)
    const definition = definitions.get(type)
    const sagaHandles = module.sagas.some((saga) => saga.handlers.some((handler) => handler.message.type === type))
    if (!definition || !(handlers.get(moduleName)?.has(type) || sagaHandles)) {
      throw new InvalidRouteError(type, `module '${moduleName}' has no handler for it`)
    }
    if (definition.kind !== 'command') throw new InvalidRouteError(type, 'it is an event; events go to their subscribers and need no route')
    routeTable.set(type, moduleName)
  }

  function requireKnown(definition: unknown): MessageDefinition {
    if (!isMessageDefinition(definition)) throw new InvalidMessageDefinitionError('message', 'a definition made with defineCommand or defineEvent', definition)
    const known = definitions.get(definition.type)
    if (!known) throw new UnknownMessageTypeError(definition.type)
    if (known !== definition) throw new DuplicateMessageTypeError(definition.type)
    return known
  }

  return {
    modules: byName,
    handlers,
    sagas,
    subscribers,
    definition: (type) => definitions.get(type),
    requireKnown,
    destinationsForSend(definition) {
      if (definition.kind !== 'command') throw new MessageKindMismatchError(definition.type, 'command')
      const target = routeTable.get(definition.type)
      if (!target) throw new RouteNotFoundError(definition.type)
      return [target]
    },
    destinationsForPublish(definition) {
      if (definition.kind !== 'event') throw new MessageKindMismatchError(definition.type, 'event')
      return subscribers.get(definition.type) ?? []
    },
    destinationsForReply(definition, replyTo) {
      if (!replyTo || !byName.has(replyTo)) throw new NoReplyAddressError(definition.type)
      return [replyTo]
    },
  }
}
