import type { Span } from '@opentelemetry/api'
import type { Clock } from '../clock.js'
import type { OutgoingEntry } from '../delivery/delivery.js'
import type { SendOptions } from '../endpoint/handler-context.js'
import type { QuietWatch } from '../lifecycle/quiet-watch.js'
import { Headers, OutsideOrigin } from '../messages/headers.js'
import type { MessageStore } from '../persistence/persistence.js'
import { prepareOutgoing } from '../pipeline/outgoing.js'
import type { Topology } from '../routing/topology.js'
import type { BusMetrics } from '../telemetry/metrics.js'
import { endProducerSpan, startProducerSpan } from '../telemetry/tracing.js'
import type { Dispatcher } from './dispatcher.js'

/** Options of bus.send and bus.publish (from outside any handler). */
export interface OutsideSendOptions extends SendOptions {
  /**
   * The caller's own open database transaction (with a PostgreSQL persistence: a pg client between its
   * BEGIN and COMMIT). The message joins it: it leaves only if that transaction commits, and then within
   * moments. The call resolves once it is written in the transaction, not once it is committed.
   */
  transaction?: unknown
}

export interface SendResult {
  messageId: string
  conversationId: string
  correlationId: string
}

export interface OutsideSendsDeps {
  topology: Topology
  clock: Clock
  persistence: MessageStore
  dispatcher: Dispatcher
  /** Counts a send being committed as the bus's own work (bus.idle() and bus.stop() wait for it). */
  quietWatch: QuietWatch
  metrics: BusMetrics
  /** Throws BusNotStartedError unless the bus runs. */
  requireRunning: (action: string) => void
}

/**
 * bus.send and bus.publish from outside any handler (HTTP routes, scripts): checked and stamped at the
 * call, committed by the persistence (an fsync shared with concurrent callers, or the caller's own
 * transaction), then dispatched. Resolves once durable.
 */
export function createOutsideSends(deps: OutsideSendsDeps): (mode: 'send' | 'publish', definition: unknown, body: unknown, options: OutsideSendOptions | undefined) => Promise<SendResult> {
  const { topology, clock, persistence, dispatcher, quietWatch, metrics } = deps

  /** Committed: its span ends (it covered the write) and the sent counter counts it. */
  function sent(entry: OutgoingEntry, span: Span | undefined): void {
    endProducerSpan(span)
    metrics.sent([entry])
  }

  /** Written in the caller's transaction: the persistence relays it once that commits. */
  async function commitInTransaction(entry: OutgoingEntry, result: SendResult, transaction: unknown, span: Span | undefined): Promise<SendResult> {
    try {
      dispatcher.dispatch(await persistence.commitOutside([entry], transaction))
    } catch (error) {
      endProducerSpan(span, error)
      throw error
    }
    sent(entry, span)
    return result
  }

  /** `quietWatch.tracked` for the hottest caller, without a closure per message sent. */
  async function commit(entry: OutgoingEntry, result: SendResult, span: Span | undefined): Promise<SendResult> {
    quietWatch.begin()
    try {
      dispatcher.dispatch(await persistence.commitOutside([entry]))
    } catch (error) {
      endProducerSpan(span, error)
      throw error
    } finally {
      quietWatch.end()
    }
    sent(entry, span)
    return result
  }

  return function sendFromOutside(mode, definition, body, options) {
    deps.requireRunning(mode === 'send' ? 'send' : 'publish')
    const entry = prepareOutgoing(topology, { mode, definition, body, options, origin: OutsideOrigin, incoming: undefined, now: clock.now() })
    const result: SendResult = {
      messageId: entry.env.id,
      conversationId: entry.env.headers[Headers.ConversationId]!,
      correlationId: entry.env.headers[Headers.CorrelationId]!,
    }
    // A child of whatever span is current (an HTTP request's, with Fastify's instrumentation).
    const span = startProducerSpan(entry, mode === 'send' ? 'send' : 'publish', undefined)
    if (entry.to.length === 0) {
      endProducerSpan(span)
      return Promise.resolve(result)
    }
    if (options?.transaction !== undefined) return commitInTransaction(entry, result, options.transaction, span)
    return commit(entry, result, span)
  }
}
