import { context as contextApi, diag, ProxyTracerProvider, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api'
import type { Envelope } from '../messages/envelope.js'
import { Headers } from '../messages/headers.js'
import type { OutgoingEntry } from '../delivery/delivery.js'
import type { SendMode } from '../pipeline/outgoing.js'
import { errorTypeOf } from '../recoverability/failure-headers.js'
import { Attributes, destinationOf, instrumentationScope, messagingSystem } from './attributes.js'
import { extractLink, extractParent, injectLink, injectParent } from './trace-headers.js'

/**
 * Mailroom's spans, after OpenTelemetry's messaging conventions: a producer span for each message sent,
 * published, replied, deferred or asked for as a saga timeout (`send sales`, `publish OrderPlaced`), and a
 * consumer span for each delivery a module handles (`process billing`), with its failed attempts as
 * events. Through @opentelemetry/api only: until the application registers an SDK (before `bus.start()`)
 * nothing here calls even that, and nothing is written into any header.
 */
// A proxy: an SDK registered after this module loaded still gets the spans.
const tracer = trace.getTracer(instrumentationScope)

let tracing = true

/**
 * Looks whether an SDK's tracer provider is registered (each bus does at start). Without one, the spans
 * below are skipped before any API call: the no-op tracer, propagator and context calls cost ~1 µs a
 * message, 5-8% of the in-memory rate (npm run bench -- --quick --only bus, A/B runs).
 */
export function checkForTracerProvider(): void {
  const provider = trace.getTracerProvider()
  tracing = !(provider instanceof ProxyTracerProvider) || provider.getDelegateTracer(instrumentationScope) !== undefined
}

/** How the message left (`messaging.operation.name`): send, publish, reply, defer or timeout. */
export type ProducerOperation = SendMode

/**
 * Starts the producer span of a message just stamped, as a child of `parent` (by default the active
 * context: an HTTP request's span, with Fastify's instrumentation), and writes its context into
 * the envelope's headers (still the message's own: nothing has committed it yet). A message due later
 * carries it as a link instead, so its delivery starts a trace of its own. Undefined when there is
 * nothing to record or propagate (no SDK).
 */
export function startProducerSpan(entry: OutgoingEntry, operation: ProducerOperation, parent: Context | undefined): Span | undefined {
  if (!tracing) return undefined
  try {
    return producerSpan(entry, operation, parent ?? contextApi.active())
  } catch (error) {
    // The application's propagator or SDK failed: the message goes untraced rather than not at all.
    return telemetryFailed(error)
  }
}

function producerSpan(entry: OutgoingEntry, operation: ProducerOperation, parent: Context): Span {
  const env = entry.env
  const { destination } = destinationOf(entry)
  // An SDK is registered (`tracing`), so the span has a valid context even when not sampled: no need to
  // check it (isSpanContextValid's patterns were 1.5% of a profile of the traced durable path).
  const span = tracer.startSpan(`${operation} ${destination}`, { kind: SpanKind.PRODUCER }, parent)
  if (span.isRecording()) {
    span.setAttributes({
      [Attributes.System]: messagingSystem,
      [Attributes.OperationType]: 'send',
      [Attributes.OperationName]: operation,
      [Attributes.DestinationName]: destination,
      [Attributes.MessageId]: env.id,
      [Attributes.ConversationId]: env.headers[Headers.ConversationId] ?? env.id,
      [Attributes.MessageType]: env.type,
    })
  }
  const own = trace.setSpan(parent, span)
  const headers = env.headers as Record<string, string>
  if (entry.at !== undefined) injectLink(own, headers)
  else injectParent(own, headers)
  return span
}

/** Ends a producer span; with the error that stopped the message from being sent, if one did. */
export function endProducerSpan(span: Span | undefined, error?: unknown): void {
  if (!span) return
  if (error !== undefined) markFailed(span, error)
  span.end()
}

/** A delivery being handled: its consumer span, and the context its handlers (and what they send) run in. */
export interface Processing {
  readonly span: Span
  readonly context: Context
}

/**
 * Starts the consumer span of a delivery: a child of the span that produced it (from its headers), linked
 * to the span it points back to (the scheduler of a deferred message, the attempt before a retry).
 * Undefined when there is nothing to record (no SDK).
 */
export function startProcessSpan(module: string, env: Envelope): Processing | undefined {
  if (!tracing) return undefined
  try {
    return processSpan(module, env)
  } catch (error) {
    // A propagator that cannot read the headers must not stop the message: it is handled untraced.
    return telemetryFailed(error)
  }
}

function processSpan(module: string, env: Envelope): Processing {
  const parent = extractParent(env.headers)
  const link = extractLink(env.headers)
  const span = tracer.startSpan(`process ${module}`, link ? { kind: SpanKind.CONSUMER, links: [{ context: link }] } : { kind: SpanKind.CONSUMER }, parent)
  if (span.isRecording()) {
    span.setAttributes({
      [Attributes.System]: messagingSystem,
      [Attributes.OperationType]: 'process',
      [Attributes.OperationName]: 'process',
      [Attributes.DestinationName]: module,
      [Attributes.ConsumerGroup]: module,
      [Attributes.MessageId]: env.id,
      [Attributes.ConversationId]: env.headers[Headers.ConversationId] ?? env.id,
      [Attributes.MessageType]: env.type,
      [Attributes.DelayedRetries]: Number(env.headers[Headers.DelayedRetries] ?? '0'),
      [Attributes.ManualRetries]: Number(env.headers[Headers.Retries] ?? '0'),
    })
  }
  return { span, context: trace.setSpan(parent, span) }
}

/** What happens after a failed attempt, as the span's event names it. */
const eventOf = {
  'immediate-retry': 'mailroom.retry.immediate',
  'delayed-retry': 'mailroom.retry.delayed',
  'error-queue': 'mailroom.error_queue',
} as const

/** A failed attempt: the exception, then what happens next (another attempt now, one later, the error queue). */
export function recordFailedAttempt(processing: Processing | undefined, error: unknown, attempt: number, next: keyof typeof eventOf, delayMs?: number): void {
  if (!processing?.span.isRecording()) return
  const span = processing.span
  span.recordException(error instanceof Error ? error : String(error))
  span.addEvent(eventOf[next], delayMs === undefined ? { [Attributes.Attempt]: attempt } : { [Attributes.Attempt]: attempt, [Attributes.RetryDelayMs]: delayMs })
}

/** The delivery's handling failed: it left for a delayed retry or the error queue. */
export function failProcessSpan(processing: Processing | undefined, error: unknown): void {
  if (processing) markFailed(processing.span, error)
}

export function endProcessSpan(processing: Processing | undefined): void {
  processing?.span.end()
}

function markFailed(span: Span, error: unknown): void {
  if (!span.isRecording()) return
  span.setAttribute(Attributes.ErrorType, errorTypeOf(error))
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) })
}

/** Told to OpenTelemetry's own diagnostics logger (silent unless the application turns it on). */
function telemetryFailed(error: unknown): undefined {
  diag.error('mailroom: a span could not be started', error)
  return undefined
}
