import type { Envelope } from '../messages/envelope.js'
import { Headers } from '../messages/headers.js'
import { InvalidBusOptionError } from '../errors.js'
import type { LogLevel } from '../signals.js'
import type { Processing } from './tracing.js'

/**
 * Where the bus writes its modules' log lines: a pino logger (Fastify's `app.log`, or `pino()`), or any
 * logger with pino's shape. The bus makes one child per module and writes each line with the message's
 * fields, so the library needs no logging package of its own.
 */
export interface BusLogger {
  child(bindings: Record<string, unknown>): BusLogger
  debug(fields: object, text?: string): void
  info(fields: object, text?: string): void
  warn(fields: object, text?: string): void
  error(fields: object, text?: string): void
}

/** What a line says of the message it was written while handling (the console shows it too). */
export interface LoggedMessage {
  messageId: string
  type: string
  conversationId: string
  /** The trace of its handling, when an OpenTelemetry SDK records one. */
  traceId?: string
  spanId?: string
}

export function loggedMessage(env: Envelope, processing?: Processing): LoggedMessage {
  const message: LoggedMessage = { messageId: env.id, type: env.type, conversationId: env.headers[Headers.ConversationId] ?? env.id }
  if (processing) {
    const { traceId, spanId } = processing.span.spanContext()
    message.traceId = traceId
    message.spanId = spanId
  }
  return message
}

const levels = ['debug', 'info', 'warn', 'error'] as const

export function requireLogger(value: unknown): BusLogger | undefined {
  if (value === undefined) return undefined
  const logger = value as Record<string, unknown> | null
  if (typeof logger !== 'object' || logger === null || typeof logger.child !== 'function' || levels.some((level) => typeof logger[level] !== 'function')) {
    throw new InvalidBusOptionError('logger', 'a pino logger (Fastify app.log, pino()), or one with child, debug, info, warn and error', value)
  }
  return value as BusLogger
}

export type LogOutput = (module: string, level: LogLevel, text: string, fields: Record<string, unknown> | undefined, message: LoggedMessage | undefined) => void

/**
 * Writes lines to `logger`: a child per module (`{ module }`), and per line the handler's fields then the
 * message's (`messageId`, `messageType`, `conversationId`, and `trace_id`/`span_id` as OpenTelemetry's
 * pino instrumentation names them, so a log backend joins lines to traces).
 */
export function createLogOutput(logger: BusLogger): LogOutput {
  const modules = new Map<string, BusLogger>()
  return (module, level, text, fields, message) => {
    let moduleLogger = modules.get(module)
    if (!moduleLogger) modules.set(module, (moduleLogger = logger.child({ module })))
    const line: Record<string, unknown> = fields ? { ...fields } : {}
    if (message) {
      line.messageId = message.messageId
      line.messageType = message.type
      line.conversationId = message.conversationId
      if (message.traceId) {
        line.trace_id = message.traceId
        line.span_id = message.spanId
      }
    }
    moduleLogger[level](line, text)
  }
}
