import type { Static, TSchema } from '@sinclair/typebox'
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler'
import { InvalidMessageError, InvalidMessageDefinitionError } from '../errors.js'
import type { MessageKind } from './envelope.js'

const definitionBrand: unique symbol = Symbol('mailroom.message-definition')

/** A message type: its wire name, its kind and its schema. The body type comes from the schema. */
export interface MessageDefinition<K extends MessageKind = MessageKind, S extends TSchema = TSchema> {
  readonly [definitionBrand]: true
  readonly type: string
  readonly kind: K
  readonly schema: S
  /** Throws InvalidMessageError naming the first bad field; returns the body typed. */
  readonly validate: (body: unknown) => Static<S>
}

export type CommandDefinition<S extends TSchema = TSchema> = MessageDefinition<'command', S>
export type EventDefinition<S extends TSchema = TSchema> = MessageDefinition<'event', S>
export type BodyOf<D> = D extends MessageDefinition<MessageKind, infer S> ? Static<S> : never

const typeNamePattern = /^[A-Z][A-Za-z0-9]*$/

function defineMessage<K extends MessageKind, S extends TSchema>(kind: K, type: string, schema: S): MessageDefinition<K, S> {
  if (typeof type !== 'string' || !typeNamePattern.test(type)) {
    throw new InvalidMessageDefinitionError('type', 'a PascalCase message name like PlaceOrder or OrderPlaced', type)
  }
  // Compiled once per definition: TypeBox's compiled checks are several times faster than Value.Check.
  const check: TypeCheck<S> = TypeCompiler.Compile(schema)
  return Object.freeze({
    [definitionBrand]: true as const,
    type,
    kind,
    schema,
    validate(body: unknown): Static<S> {
      if (check.Check(body)) return body
      const problems = [...check.Errors(body)].slice(0, 5).map((error) => ({ path: error.path, message: error.message }))
      throw new InvalidMessageError(type, problems)
    },
  })
}

/** A command: an instruction to one owner, named verb + noun (`PlaceOrder`). Routed by createBus({ routes }). */
export function defineCommand<S extends TSchema>(type: string, schema: S): CommandDefinition<S> {
  return defineMessage('command', type, schema)
}

/** An event: a fact that happened, named noun + past verb (`OrderPlaced`). Every subscribing module gets a copy. */
export function defineEvent<S extends TSchema>(type: string, schema: S): EventDefinition<S> {
  return defineMessage('event', type, schema)
}

export function isMessageDefinition(value: unknown): value is MessageDefinition {
  return typeof value === 'object' && value !== null && definitionBrand in value
}
