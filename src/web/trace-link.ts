import type { LogLine } from '../bus/index.js'

/** `{traceId}` in a trace viewer's address, where the id of the trace to show goes. */
const placeholder = '{traceId}'

/** Whether `value` is a trace viewer's address the console can link to: http(s), with `{traceId}` in it. */
export function isTraceUrl(value: unknown): value is string {
  if (typeof value !== 'string' || !value.includes(placeholder)) return false
  try {
    return ['http:', 'https:'].includes(new URL(value.replaceAll(placeholder, '0')).protocol)
  } catch {
    return false
  }
}

/** A log line as a panel draws it: with a link to its trace when the line has one and a viewer is configured. */
export function withTraceLink(line: LogLine, traceUrl: string | undefined): LogLine & { traceHref?: string } {
  return traceUrl && line.traceId ? { ...line, traceHref: traceUrl.replaceAll(placeholder, encodeURIComponent(line.traceId)) } : line
}
