import type { BodyOf, MessageDefinition } from '../messages/define-message.js'
import type { HandlerContext } from './handler-context.js'

export type HandlerFunction<D extends MessageDefinition> = (message: BodyOf<D>, context: HandlerContext) => Promise<void> | void

export interface Handler<D extends MessageDefinition = MessageDefinition> {
  readonly message: D
  /** Shown in failure records and logs. */
  readonly name: string
  readonly fn: HandlerFunction<D>
}

/**
 * Pairs a message definition with the function that handles it, so the compiler checks that the
 * function accepts that message's body. Handling an event subscribes the module to it.
 */
export function handle<D extends MessageDefinition>(message: D, fn: HandlerFunction<D>, options: { name?: string } = {}): Handler<D> {
  return Object.freeze({ message, fn, name: options.name ?? (fn.name || `handle${message.type}`) })
}
