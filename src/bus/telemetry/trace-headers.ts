import { diag, propagation, ROOT_CONTEXT, trace, type Context, type SpanContext, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api'
import type { Envelope } from '../messages/envelope.js'

/**
 * The trace context in an envelope's headers, written and read by the application's propagator (W3C
 * `traceparent`/`tracestate` with the Node SDK's defaults), so it travels wherever the envelope does:
 * the journal, PostgreSQL, RabbitMQ, the error queue.
 *
 * A second context may ride along as a *link*, under `mailroom.link.*`: the span a message should point
 * back to without being its child. A deferred message or saga timeout starts a new trace that links to
 * the span that scheduled it (as NServiceBus does: an hour later is another story); a delayed retry, or a
 * retry from the error queue, stays in its message's trace and links to the attempt that failed.
 */
const linkPrefix = 'mailroom.link.'

type Headers = Record<string, string>

const linkSetter: TextMapSetter<Headers> = {
  set(carrier, key, value) {
    carrier[linkPrefix + key] = value
  },
}

const linkGetter: TextMapGetter<Readonly<Headers>> = {
  keys: (carrier) => Object.keys(carrier).flatMap((key) => (key.startsWith(linkPrefix) ? [key.slice(linkPrefix.length)] : [])),
  get: (carrier, key) => carrier[linkPrefix + key],
}

/** Writes `context`'s span into freshly made headers (they are the message's own until it is committed). */
export function injectParent(context: Context, headers: Headers): void {
  propagation.inject(context, headers)
}

/** Writes `context`'s span into `headers` as the link, in place of any link they had. */
export function injectLink(context: Context, headers: Headers): void {
  for (const key of Object.keys(headers)) if (key.startsWith(linkPrefix)) delete headers[key]
  propagation.inject(context, headers, linkSetter)
}

/** The context a message's consumer span continues: its producer's, or none (the root). */
export function extractParent(headers: Readonly<Headers>): Context {
  return propagation.extract(ROOT_CONTEXT, headers)
}

/** The span a message links back to, if it carries one. */
export function extractLink(headers: Readonly<Headers>): SpanContext | undefined {
  // Most messages carry none: a look at the names spares the propagator's work (with the SDK's defaults, two parsers).
  let linked = false
  for (const key in headers) {
    if (key.startsWith(linkPrefix)) {
      linked = true
      break
    }
  }
  return linked ? trace.getSpanContext(propagation.extract(ROOT_CONTEXT, headers, linkGetter)) : undefined
}

/** `env` with a link to `context`'s span (a delayed retry, a move to the error queue). */
export function withLink(env: Envelope, context: Context): Envelope {
  const headers: Headers = { ...env.headers }
  try {
    injectLink(context, headers)
  } catch (error) {
    // A propagator that fails costs the link, never the retry or the move to the error queue.
    diag.error('mailroom: a trace link could not be written', error)
    return env
  }
  return { ...env, headers }
}
