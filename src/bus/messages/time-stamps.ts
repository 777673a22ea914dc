/**
 * Header time stamps (`mailroom.sent-at`) as ISO strings, with a one-entry cache each way: formatting
 * a Date costs about half a microsecond, and at bus rates most messages share their millisecond.
 */
let formattedMs = Number.NaN
let formatted = ''

export function isoTime(ms: number): string {
  if (ms !== formattedMs) {
    formatted = new Date(ms).toISOString()
    formattedMs = ms
  }
  return formatted
}

let parsedText: string | undefined
let parsed = Number.NaN

/** The time (ms since epoch) an ISO stamp names; NaN for a missing or unreadable one. */
export function parseIsoTime(text: string | undefined): number {
  if (text !== parsedText) {
    parsed = text === undefined ? Number.NaN : Date.parse(text)
    parsedText = text
  }
  return parsed
}
