import type { DocumentOf, TableDefinition } from '../data/define-table.js'
import type { Table } from '../data/table.js'
import type { BodyOf, CommandDefinition, EventDefinition, MessageDefinition } from '../messages/define-message.js'
import type { LogLevel } from '../signals.js'

export interface SendOptions {
  /** Extra headers for the outgoing envelope. Names starting with `mailroom.` are reserved. */
  headers?: Record<string, string>
}

/**
 * One level of a handler's logger, in pino's argument order (the order Fastify's `request.log` takes):
 * `log.info('Charged')`, `log.info({ orderId }, 'Charged')`, `log.error(error, 'Gateway refused')`.
 */
export interface LogMethod {
  (fields: Record<string, unknown> | Error, text?: string): void
  (text: string): void
}

/**
 * A module's logger while it handles a message: each line names the module, the message (id, type,
 * conversation) and its trace, goes to the bus's pino logger when it has one, and to the console's log panel.
 */
export interface Logger {
  debug: LogMethod
  info: LogMethod
  warn: LogMethod
  error: LogMethod
}

/**
 * What a handler gets beside its message. Outgoing messages are held, not sent: they are committed in
 * one journal record with the incoming message's consumed mark once every handler succeeded, and
 * dropped if one throws. The calls return promises so handlers read naturally with `await`.
 */
export interface HandlerContext {
  readonly messageId: string
  readonly headers: Readonly<Record<string, string>>
  readonly log: Logger
  send<D extends CommandDefinition>(message: D, body: BodyOf<D>, options?: SendOptions): Promise<void>
  publish<D extends EventDefinition>(message: D, body: BodyOf<D>, options?: SendOptions): Promise<void>
  /** Sends to the module that sent the incoming message. */
  reply<D extends MessageDefinition>(message: D, body: BodyOf<D>, options?: SendOptions): Promise<void>
  /** Sends (a command) or publishes (an event) after `delayMs`; durable across restarts. */
  defer<D extends MessageDefinition>(delayMs: number, message: D, body: BodyOf<D>, options?: SendOptions): Promise<void>
  /**
   * One of the module's tables (listed in `defineModule({ tables })`): read, put, delete and list. Writes
   * commit with the outgoing messages, in one journal record, or not at all.
   */
  table<T extends TableDefinition>(definition: T): Table<DocumentOf<T>>
}

type LogWriter = (level: LogLevel, text: string, fields?: Record<string, unknown>) => void

/** Either argument order a LogMethod takes, as (text, fields); an Error becomes `{ err }`, as pino's serializers expect. */
function linePartsOf(first: Record<string, unknown> | Error | string, text: string | undefined): [string, Record<string, unknown> | undefined] {
  if (typeof first === 'string') return [first, undefined]
  if (first instanceof Error) return [text ?? first.message, { err: first }]
  return [text ?? '', first]
}

export function createLogger(write: LogWriter): Logger {
  // Method shorthand, not `debug: (…) => …`: tsx names every arrow stored in a property with a
  // defineProperty call, and a logger is made for each handled message that logs.
  return {
    debug(first: Record<string, unknown> | Error | string, text?: string) {
      write('debug', ...linePartsOf(first, text))
    },
    info(first: Record<string, unknown> | Error | string, text?: string) {
      write('info', ...linePartsOf(first, text))
    },
    warn(first: Record<string, unknown> | Error | string, text?: string) {
      write('warn', ...linePartsOf(first, text))
    },
    error(first: Record<string, unknown> | Error | string, text?: string) {
      write('error', ...linePartsOf(first, text))
    },
  }
}
