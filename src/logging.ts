import { pino, type Logger } from 'pino'
import { PinoPretty } from 'pino-pretty'

export type LogFormat = 'pretty' | 'json'

/**
 * The shop's one logger: Fastify's (`loggerInstance`) and the bus's (`createBus({ logger })`), so a
 * handler's `context.log` lines and the web's share one stream on stdout. On a terminal, readable lines
 * (pino-pretty, in this thread: a worker would lose the last lines of a process that exits at once);
 * otherwise JSON lines for a log collector, one object per line.
 */
export function createShopLogger(options: { level: string; format: LogFormat }): Logger {
  const base = { level: options.level, base: { pid: process.pid } }
  if (options.format === 'json') return pino(base)
  return pino(
    base,
    PinoPretty({
      colorize: process.stdout.isTTY === true,
      sync: true,
      translateTime: 'HH:MM:ss.l',
      // One line each: the module and text first; the message's ids after (the span id only in JSON).
      singleLine: true,
      messageFormat: '{if module}[{module}] {end}{msg}',
      ignore: 'pid,hostname,module,span_id,messageType',
    }),
  )
}
