import { randomUUID } from 'node:crypto'
import type { HandlerContext, SendOptions } from '../endpoint/handler-context.js'
import { createLogger } from '../endpoint/handler-context.js'
import { InvalidOptionError } from '../errors.js'
import { isMessageDefinition, type MessageDefinition } from '../messages/define-message.js'
import { Headers } from '../messages/headers.js'
import type { LogLevel } from '../signals.js'

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
}

export interface RecordingContextOptions {
  messageId?: string
  headers?: Record<string, string>
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

  const record = (definition: unknown, body: unknown, sendOptions: SendOptions | undefined): RecordedMessage => {
    if (!isMessageDefinition(definition)) throw new InvalidOptionError('message', 'a definition made with defineCommand or defineEvent', definition)
    const message: RecordedMessage = { type: definition.type, body: definition.validate(body) }
    if (sendOptions?.headers) message.headers = { ...sendOptions.headers }
    return message
  }
  const requireKind = (definition: MessageDefinition, kind: 'command' | 'event') => {
    if (definition.kind !== kind) throw new InvalidOptionError('message', `a ${kind}`, `${definition.kind} '${definition.type}'`)
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
