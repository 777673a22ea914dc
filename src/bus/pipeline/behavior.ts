import type { HandlerContext } from '../endpoint/handler-context.js'
import { BehaviorNextTwiceError, InvalidBehaviorError } from '../errors.js'
import type { MessageKind } from '../messages/envelope.js'

/** The message a behavior sees: what it is, whom it is for, its body as validated. */
export interface IncomingMessage {
  readonly type: string
  readonly kind: MessageKind
  readonly body: unknown
  readonly messageId: string
  readonly headers: Readonly<Record<string, string>>
  /** The module handling it. */
  readonly module: string
}

export interface BehaviorOptions {
  /** Named in failure records and logs when the behavior throws. */
  name: string
  /** Before the module's handlers (and the behaviors inside this one); throwing fails the attempt, as a handler's error does. */
  before?(message: IncomingMessage, context: HandlerContext): void | Promise<void>
  /** After the handlers succeeded, before the outcome is committed; throwing fails the attempt. */
  after?(message: IncomingMessage, context: HandlerContext): void | Promise<void>
  /**
   * Around the handlers: `await next()` runs them (and the behaviors inside this one), at most once.
   * Not calling it consumes the message without handling it (a filter).
   */
  around?(message: IncomingMessage, context: HandlerContext, next: () => Promise<void>): Promise<void>
}

/**
 * A step of the pipeline around a module's handlers, as NServiceBus behaviors and MassTransit filters
 * are: it runs on every attempt (each retry too), with the message and the handlers' own context, so
 * what it sends or writes commits with them. Behaviors of `createBus({ behaviors })` wrap those of
 * `defineModule({ behaviors })`; within each list, the first is outermost.
 */
export interface Behavior {
  readonly name: string
  around(message: IncomingMessage, context: HandlerContext, next: () => Promise<void>): Promise<void>
}

const behaviorMark = Symbol('mailroom.behavior')

/** A behavior from `before`, `after` and `around` (any of them; `before` and `after` run inside `around`). */
export function defineBehavior(options: BehaviorOptions): Behavior {
  if (typeof options?.name !== 'string' || options.name === '') throw new InvalidBehaviorError('name', 'a non-empty string', options?.name)
  const { before, after, around } = options
  for (const [key, value] of [['before', before], ['after', after], ['around', around]] as const) {
    if (value !== undefined && typeof value !== 'function') throw new InvalidBehaviorError(`${options.name}.${key}`, 'a function', value)
  }
  if (!before && !after && !around) throw new InvalidBehaviorError(options.name, 'one of before, after or around', options)
  const inner = async (message: IncomingMessage, context: HandlerContext, next: () => Promise<void>) => {
    if (before) await before(message, context)
    await next()
    if (after) await after(message, context)
  }
  return {
    name: options.name,
    [behaviorMark]: true,
    around: around ? (message, context, next) => around(message, context, () => inner(message, context, next)) : inner,
  } as Behavior
}

export function isBehavior(value: unknown): value is Behavior {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[behaviorMark] === true
}

/** A behaviors option, checked: an array of defineBehavior(...) results. */
export function requireBehaviors(option: string, value: unknown): Behavior[] {
  const list = value ?? []
  if (!Array.isArray(list)) throw new InvalidBehaviorError(option, 'an array of defineBehavior(...) results', value)
  list.forEach((behavior, index) => {
    if (!isBehavior(behavior)) throw new InvalidBehaviorError(`${option}[${index}]`, 'made with defineBehavior({ name, before, after, around })', behavior)
  })
  return [...list] as Behavior[]
}

/**
 * Runs `handlers` inside `behaviors`, outermost first. `at` is told which step runs, so a failure names
 * the behavior that threw rather than a handler that never ran.
 */
export function runBehaviors(behaviors: readonly Behavior[], message: IncomingMessage, context: HandlerContext, handlers: () => Promise<void>, at: (step: string) => void): Promise<void> {
  const step = async (index: number): Promise<void> => {
    const behavior = behaviors[index]
    if (!behavior) return handlers()
    const where = `behavior ${behavior.name}`
    at(where)
    let called = false
    await behavior.around(message, context, async () => {
      if (called) throw new BehaviorNextTwiceError(behavior.name)
      called = true
      await step(index + 1)
      at(where)
    })
  }
  return step(0)
}
