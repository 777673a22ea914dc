/**
 * Replay's fast path for `out` records: what replay needs of one (its time, and per message the
 * destinations, the due time and the id), read straight off the bytes without decoding the messages.
 *
 * Why: replay keeps no message in memory (a queue reads it back in its turn), yet `JSON.parse` of the
 * whole record was half of replay's time, and `out` records are most of what a backlog leaves on disk.
 * Only the exact shape this journal writes is skimmed (`JSON.stringify` of an `out` record: keys in the
 * order below, integer times, no escapes in ids or module names); anything else returns undefined and
 * the caller parses the record in full. The messages are still checked by the record's CRC now and by
 * `JSON.parse` when they are read back.
 */

export interface SkimmedOut {
  k: 'out-skimmed'
  t: number
  msgs: { to: string[]; at?: number; id: string }[]
}

const quote = 0x22
const backslash = 0x5c
const comma = 0x2c
const openBrace = 0x7b
const closeBrace = 0x7d
const openBracket = 0x5b
const closeBracket = 0x5d

const bytesOf = (text: string) => Uint8Array.from(text, (char) => char.charCodeAt(0))
const recordStart = bytesOf('{"k":"out","t":')
const msgsStart = bytesOf(',"msgs":[')
const entryStart = bytesOf('{"to":[')
const atKey = bytesOf(',"at":')
const envStart = bytesOf(',"env":{"id":"')

/** Module names seen, by their bytes (a process has a handful). */
const moduleNames = new Map<Uint8Array, string>()

/** A cursor over one record's JSON bytes; every read returns false (or -1) where the shape is not ours. */
class Cursor {
  at = 0
  constructor(readonly json: Buffer) {}

  literal(expected: Uint8Array): boolean {
    const { json } = this
    const at = this.at
    const length = expected.length
    if (at + length > json.length) return false
    for (let i = 0; i < length; i++) if (json[at + i] !== expected[i]) return false
    this.at = at + length
    return true
  }

  byte(expected: number): boolean {
    if (this.json[this.at] !== expected) return false
    this.at++
    return true
  }

  /** A non-negative integer of at most 15 digits (times in ms); -1 otherwise. */
  integer(): number {
    const { json } = this
    const start = this.at
    let value = 0
    while (this.at < json.length && this.at - start < 16) {
      const digit = json[this.at]! - 0x30
      if (digit < 0 || digit > 9) break
      value = value * 10 + digit
      this.at++
    }
    const digits = this.at - start
    return digits === 0 || digits > 15 || (digits > 1 && json[start] === 0x30) ? -1 : value
  }

  /** The rest of a string whose opening quote was read: ASCII without escapes only; undefined otherwise. */
  plainStringRest(): string | undefined {
    const { json } = this
    const end = json.length
    const start = this.at
    let at = start
    while (at < end) {
      const c = json[at]!
      if (c === quote) break
      if (c === backslash || c >= 0x80 || c < 0x20) return undefined
      at++
    }
    if (at >= end) return undefined
    this.at = at + 1
    return json.toString('latin1', start, at)
  }

  /**
   * A module name (an opening quote read): one string per name, not one per record, since a replay
   * keeps a million of them in its deliveries.
   */
  moduleName(): string | undefined {
    const { json } = this
    const start = this.at
    for (const [bytes, name] of moduleNames) {
      const end = start + bytes.length
      if (json[end] !== quote) continue
      let i = 0
      while (i < bytes.length && json[start + i] === bytes[i]) i++
      if (i === bytes.length) {
        this.at = end + 1
        return name
      }
    }
    const name = this.plainStringRest()
    if (name !== undefined && moduleNames.size < 64) moduleNames.set(bytesOf(name), name)
    return name
  }

  /**
   * Skips to just past the `}` that closes the object the cursor is inside (after its first member).
   * Strings are skipped with their escapes; nothing else in JSON can hide a brace.
   */
  skipObjectRest(): boolean {
    // Locals, not `this.at`, in the loop: this is where a skim spends its time.
    const { json } = this
    const end = json.length
    let at = this.at
    let depth = 1
    while (at < end) {
      const c = json[at++]!
      if (c === quote) {
        while (at < end) {
          const s = json[at++]!
          if (s === backslash) at++
          else if (s === quote) break
        }
      } else if (c === openBrace || c === openBracket) depth++
      else if (c === closeBrace || c === closeBracket) {
        if (--depth === 0) {
          this.at = at
          return true
        }
      }
    }
    return false
  }
}

export function skimOutRecord(json: Uint8Array): SkimmedOut | undefined {
  const cursor = new Cursor(Buffer.isBuffer(json) ? json : Buffer.from(json.buffer, json.byteOffset, json.byteLength))
  if (!cursor.literal(recordStart)) return undefined
  const t = cursor.integer()
  if (t < 0 || !cursor.literal(msgsStart)) return undefined
  const msgs: SkimmedOut['msgs'] = []
  for (;;) {
    if (!cursor.literal(entryStart)) return undefined
    const to: string[] = []
    for (;;) {
      if (!cursor.byte(quote)) return undefined
      const module = cursor.moduleName()
      if (module === undefined) return undefined
      to.push(module)
      if (cursor.byte(closeBracket)) break
      if (!cursor.byte(comma)) return undefined
    }
    let at: number | undefined
    if (cursor.literal(atKey)) {
      at = cursor.integer()
      if (at < 0) return undefined
    }
    if (!cursor.literal(envStart)) return undefined
    const id = cursor.plainStringRest()
    if (id === undefined || !cursor.skipObjectRest() || !cursor.byte(closeBrace)) return undefined
    msgs.push(at === undefined ? { to, id } : { to, at, id })
    if (cursor.byte(closeBracket)) break
    if (!cursor.byte(comma)) return undefined
  }
  if (!cursor.byte(closeBrace) || cursor.at !== json.length) return undefined
  return { k: 'out-skimmed', t, msgs }
}
