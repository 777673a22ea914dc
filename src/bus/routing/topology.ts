import {
  DuplicateMessageTypeError,
  DuplicateModuleError,
  InvalidOptionError,
  InvalidRouteError,
  MessageKindMismatchError,
  NoReplyAddressError,
  RouteNotFoundError,
  UnknownMessageTypeError,
} from '../errors.js'
import type { Handler } from '../endpoint/handle.js'
import type { ModuleDefinition } from '../endpoint/define-module.js'
import { isMessageDefinition, type MessageDefinition } from '../messages/define-message.js'

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
      if (handler.message.kind === 'event' && list.length === 1) {
        subscribers.set(handler.message.type, [...(subscribers.get(handler.message.type) ?? []), module.name])
      }
    }
    for (const event of module.publishes) register(event)
  }

  const routeTable = new Map<string, string>()
  if (typeof routes !== 'object' || routes === null) throw new InvalidOptionError('routes', 'an object like { PlaceOrder: "sales" }', routes)
  for (const [type, moduleName] of Object.entries(routes)) {
    const module = byName.get(moduleName)
    if (!module) throw new InvalidRouteError(type, `there is no module named '${moduleName}'`)
    const definition = definitions.get(type)
    if (!definition || !handlers.get(moduleName)?.has(type)) {
      throw new InvalidRouteError(type, `module '${moduleName}' has no handler for it`)
    }
    if (definition.kind !== 'command') throw new InvalidRouteError(type, 'it is an event; events go to their subscribers and need no route')
    routeTable.set(type, moduleName)
  }

  function requireKnown(definition: unknown): MessageDefinition {
    if (!isMessageDefinition(definition)) throw new InvalidOptionError('message', 'a definition made with defineCommand or defineEvent', definition)
    const known = definitions.get(definition.type)
    if (!known) throw new UnknownMessageTypeError(definition.type)
    if (known !== definition) throw new DuplicateMessageTypeError(definition.type)
    return known
  }

  return {
    modules: byName,
    handlers,
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
