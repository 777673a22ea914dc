import type { HandlerContext, Logger } from '../endpoint/handler-context.js'
import type { Envelope } from '../messages/envelope.js'
import type { OutgoingEntry } from '../outbox/record.js'
import type { Topology } from '../routing/topology.js'
import { prepareOutgoing, type SendMode } from './outgoing.js'

export interface MessageContextOptions {
  topology: Topology
  module: string
  incoming: Envelope
  now: () => number
  log: Logger
  /** Receives every outgoing message; the pipeline commits them once all handlers succeeded. */
  outgoing: OutgoingEntry[]
}

/** The context a handler gets while the bus handles a delivery. */
export function createMessageContext(options: MessageContextOptions): HandlerContext {
  const { topology, module, incoming, outgoing } = options
  const hold = (mode: SendMode, definition: unknown, body: unknown, sendOptions: unknown, delayMs?: number): Promise<void> => {
    const request = { mode, definition, body, options: sendOptions as never, origin: module, incoming, now: options.now() }
    outgoing.push(prepareOutgoing(topology, delayMs === undefined ? request : { ...request, delayMs }))
    return Promise.resolve()
  }
  return {
    messageId: incoming.id,
    headers: incoming.headers,
    log: options.log,
    send: (definition, body, sendOptions) => hold('send', definition, body, sendOptions),
    publish: (definition, body, sendOptions) => hold('publish', definition, body, sendOptions),
    reply: (definition, body, sendOptions) => hold('reply', definition, body, sendOptions),
    defer: (delayMs, definition, body, sendOptions) => hold('defer', definition, body, sendOptions, delayMs),
  }
}
