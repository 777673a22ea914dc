import { defineBehavior, type Behavior } from './bus/index.js'

/**
 * Warns in a module's log when its handlers took longer than `thresholdMs` for one message: a slow
 * payment gateway shows up in Billing's panel without a profiler.
 */
export function warnWhenSlow(thresholdMs: number, now: () => number = () => performance.now()): Behavior {
  return defineBehavior({
    name: 'warn-when-slow',
    async around(message, context, next) {
      const started = now()
      await next()
      const tookMs = now() - started
      if (tookMs > thresholdMs) context.log.warn(`${message.type} took ${Math.round(tookMs)} ms (more than ${thresholdMs} ms)`)
    },
  })
}
