import type { DocumentOf, TableDefinition } from '../data/define-table.js'
import type { Table } from '../data/table.js'
import type { BodyOf, CommandDefinition, EventDefinition, MessageDefinition } from '../messages/define-message.js'
import type { LogLevel } from '../signals.js'

export interface SendOptions {
  /** Extra headers for the outgoing envelope. Names starting with `mailroom.` are reserved. */
  headers?: Record<string, string>
}

export interface Logger {
  debug(text: string, fields?: Record<string, unknown>): void
  info(text: string, fields?: Record<string, unknown>): void
  warn(text: string, fields?: Record<string, unknown>): void
  error(text: string, fields?: Record<string, unknown>): void
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

export function createLogger(write: LogWriter): Logger {
  // Method shorthand, not `debug: (…) => …`: tsx names every arrow stored in a property with a
  // defineProperty call, and a logger is made for each handled message that logs.
  return {
    debug(text, fields) {
      write('debug', text, fields)
    },
    info(text, fields) {
      write('info', text, fields)
    },
    warn(text, fields) {
      write('warn', text, fields)
    },
    error(text, fields) {
      write('error', text, fields)
    },
  }
}
