import { InvalidSendOptionError } from '../errors.js'
import type { SendOptions } from '../endpoint/handler-context.js'
import type { MessageDefinition } from '../messages/define-message.js'
import type { Envelope } from '../messages/envelope.js'
import { Headers } from '../messages/headers.js'
import { newMessageId } from '../messages/message-id.js'
import { isoTime } from '../messages/time-stamps.js'
import type { OutgoingEntry } from '../delivery/delivery.js'
import type { Topology } from '../routing/topology.js'

/** `defer` sends a command or publishes an event, later; `timeout` comes back to the sending saga instance. */
export type SendMode = 'send' | 'publish' | 'reply' | 'defer' | 'timeout'

export interface OutgoingRequest {
  mode: SendMode
  definition: unknown
  body: unknown
  options: SendOptions | undefined
  /** Module that sends, or `outside`. */
  origin: string
  /** The message being handled, when sending from a handler: correlation and conversation flow from it. */
  incoming: Envelope | undefined
  now: number
  delayMs?: number
  /** For `timeout`: the saga instance it returns to. */
  saga?: { name: string; id: string; instance: string }
}

/**
 * Turns a send/publish/reply call into a stamped envelope and its destinations, or throws the caller
 * error (unknown type, wrong kind, no route, invalid body) before anything is written.
 */
export function prepareOutgoing(topology: Topology, request: OutgoingRequest): OutgoingEntry {
  const definition = topology.requireKnown(request.definition)
  const mode = request.mode === 'defer' ? (definition.kind === 'event' ? 'publish' : 'send') : request.mode
  const to =
    mode === 'timeout'
      ? [request.origin]
      : mode === 'send'
        ? topology.destinationsForSend(definition)
        : mode === 'publish'
          ? topology.destinationsForPublish(definition)
          : topology.destinationsForReply(definition, request.incoming?.headers[Headers.ReplyTo])
  const body = definition.validate(request.body)
  const env = createEnvelope(definition, body, request)
  if (request.delayMs === undefined) return { to, env }
  if (typeof request.delayMs !== 'number' || !Number.isFinite(request.delayMs) || request.delayMs < 0) {
    throw new InvalidSendOptionError('delayMs', 'a number of milliseconds ≥ 0', request.delayMs)
  }
  return { to, at: request.now + request.delayMs, env }
}

function createEnvelope(definition: MessageDefinition, body: unknown, request: OutgoingRequest): Envelope {
  const id = newMessageId()
  const incoming = request.incoming?.headers
  const headers: Record<string, string> = {}
  if (request.options?.headers) {
    for (const [name, value] of Object.entries(request.options.headers)) {
      if (name.startsWith('mailroom.')) throw new InvalidSendOptionError(`headers['${name}']`, 'a header name outside the reserved mailroom.* namespace', name)
      if (typeof value !== 'string') throw new InvalidSendOptionError(`headers['${name}']`, 'a string', value)
      headers[name] = value
    }
  }
  headers[Headers.MessageId] = id
  headers[Headers.Type] = definition.type
  headers[Headers.Kind] = definition.kind
  headers[Headers.CorrelationId] = incoming?.[Headers.CorrelationId] ?? id
  headers[Headers.ConversationId] = incoming?.[Headers.ConversationId] ?? id
  if (request.incoming) headers[Headers.CausationId] = request.incoming.id
  headers[Headers.OriginModule] = request.origin
  if (request.origin !== 'outside') headers[Headers.ReplyTo] = request.origin
  headers[Headers.SentAt] = isoTime(request.now)
  if (request.delayMs !== undefined) headers[Headers.DeliverAt] = isoTime(request.now + request.delayMs)
  if (request.saga) {
    headers[Headers.SagaName] = request.saga.name
    headers[Headers.SagaId] = request.saga.id
    headers[Headers.SagaInstance] = request.saga.instance
  }
  return { id, type: definition.type, headers, body }
}
