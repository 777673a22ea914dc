import { randomUUID } from 'node:crypto'
import type { HandlerContext, SendOptions } from '../endpoint/handler-context.js'
import { createLogger } from '../endpoint/handler-context.js'
import { InvalidMessageDefinitionError, MessageKindMismatchError } from '../errors.js'
import { isMessageDefinition, type MessageDefinition } from '../messages/define-message.js'
import { Headers } from '../messages/headers.js'
import type { LogLevel } from '../signals.js'
import type { DocumentOf, TableDefinition } from '../data/define-table.js'
import { MemoryTables, type RecordedWrite } from './memory-tables.js'

export interface RecordedMessage {
  type: string
  body: unknown
  /** Present only when the handler passed headers. */
  headers?: Record<string, string>
}

export interface RecordedDeferral extends RecordedMessage {
  delayMs: number
}

export interface RecordedLog {
  level: LogLevel
  text: string
  fields?: Record<string, unknown>
}

export interface RecordingContext extends HandlerContext {
  readonly sent: RecordedMessage[]
  readonly published: RecordedMessage[]
  readonly replied: RecordedMessage[]
  readonly deferred: RecordedDeferral[]
  readonly logs: RecordedLog[]
  /** Every put and delete the handler made in the module's tables, in order. */
  readonly written: RecordedWrite[]
  /** Puts documents into a table before the handler runs. */
  seed<T extends TableDefinition>(table: T, docs: Readonly<Record<string, DocumentOf<T>>>): void
  /** A table's documents now, by key. */
  documents<T extends TableDefinition>(table: T): Record<string, DocumentOf<T>>
}

export interface RecordingContextOptions {
  messageId?: string
  headers?: Record<string, string>
  /** The tables the handler sees; share one between contexts to carry data from one message to the next. @default new MemoryTables() */
  tables?: MemoryTables
}

/**
 * A handler context that records instead of sending: no bus, no files, no timers. Outgoing bodies are
 * validated against their schemas, so a test fails where the real bus would refuse the message.
 */
export function createRecordingContext(options: RecordingContextOptions = {}): RecordingContext {
  const messageId = options.messageId ?? randomUUID()
  const sent: RecordedMessage[] = []
  const published: RecordedMessage[] = []
  const replied: RecordedMessage[] = []
  const deferred: RecordedDeferral[] = []
  const logs: RecordedLog[] = []
  const tables = options.tables ?? new MemoryTables()

  const record = (definition: unknown, body: unknown, sendOptions: SendOptions | undefined): RecordedMessage => {
    if (!isMessageDefinition(definition)) throw new InvalidMessageDefinitionError('message', 'a definition made with defineCommand or defineEvent', definition)
    const message: RecordedMessage = { type: definition.type, body: definition.validate(body) }
    if (sendOptions?.headers) message.headers = { ...sendOptions.headers }
    return message
  }
  const requireKind = (definition: MessageDefinition, kind: 'command' | 'event') => {
    if (definition.kind !== kind) throw new MessageKindMismatchError(definition.type, kind)
  }

  return {
    messageId,
    headers: { [Headers.MessageId]: messageId, ...options.headers },
    log: createLogger((level, text, fields) => logs.push(fields ? { level, text, fields } : { level, text })),
    sent,
    published,
    replied,
    deferred,
    logs,
    written: tables.written,
    seed: (table, docs) => tables.seed(table, docs),
    documents: (table) => tables.documents(table),
    table: (definition) => tables.table(definition),
    async send(definition, body, sendOptions) {
      requireKind(definition, 'command')
      sent.push(record(definition, body, sendOptions))
    },
    async publish(definition, body, sendOptions) {
      requireKind(definition, 'event')
      published.push(record(definition, body, sendOptions))
    },
    async reply(definition, body, sendOptions) {
      replied.push(record(definition, body, sendOptions))
    },
    async defer(delayMs, definition, body, sendOptions) {
      deferred.push({ ...record(definition, body, sendOptions), delayMs })
    },
  }
}
