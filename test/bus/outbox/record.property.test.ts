import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeRecordAt, RecordLines, type JournalRecord } from '../../../src/bus/outbox/record.js'

const text = fc.string({ unit: 'binary', maxLength: 40 })
const envelope = fc.record({
  id: text,
  type: text,
  headers: fc.dictionary(text, text, { maxKeys: 6 }),
  body: fc.jsonValue({ maxDepth: 3 }),
})
const failure = fc.record({ at: fc.integer(), handler: text, type: text, message: text })
const outgoing = fc.array(fc.record({ to: fc.array(text, { maxLength: 3 }), env: envelope }, { requiredKeys: ['to', 'env'] }), { maxLength: 3 })
const t = fc.integer({ min: 0 })
const record: fc.Arbitrary<JournalRecord> = fc.oneof(
  fc.record({ k: fc.constant('out' as const), t, msgs: outgoing }),
  fc.record({ k: fc.constant('handled' as const), t, id: text, msgs: outgoing }),
  fc.record({ k: fc.constant('delayed' as const), t, id: text, at: t, env: envelope, failures: fc.array(failure, { maxLength: 3 }) }),
  fc.record({ k: fc.constant('failed' as const), t, id: text, env: envelope, failures: fc.array(failure, { maxLength: 3 }) }),
  fc.record({ k: fc.constant('retried' as const), t, id: text, env: envelope }),
  fc.record({ k: fc.constant('archived' as const), t, id: text }),
  fc.record({ k: fc.constant('saga' as const), t, saga: text, id: text, instance: text, data: fc.jsonValue({ maxDepth: 3 }) }),
)
const records = fc.array(record, { minLength: 1, maxLength: 8 })

/** Frames records as a journal batch does; returns the bytes and where each record starts. */
function frame(list: JournalRecord[]): { data: Buffer; starts: number[] } {
  const lines = new RecordLines(64)
  const starts = list.map((item) => {
    const start = lines.length
    lines.append(item)
    return start
  })
  return { data: Buffer.from(lines.bytes()), starts }
}

/** Reads records from the start until the data ends or a record is refused. */
function readAll(data: Uint8Array) {
  const read: JournalRecord[] = []
  let offset = 0
  while (offset < data.length) {
    const result = decodeRecordAt(data, offset)
    if (!result.ok) return { read, failure: { offset, ...result } }
    read.push(result.record)
    offset = result.next
  }
  return { read, failure: undefined }
}

/** What a record is once it has been through JSON: the standard the journal promises. */
const asJson = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown

describe('journal records (property-based)', () => {
  it('read back any sequence of records as they were written', () => {
    fc.assert(
      fc.property(records, (list) => {
        const { read, failure } = readAll(frame(list).data)
        expect(failure).toBeUndefined()
        expect(read).toEqual(asJson(list))
      }),
      { numRuns: 300 },
    )
  })

  it('report any truncation inside a record as a torn tail, after every whole record before it', () => {
    fc.assert(
      fc.property(records, fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), (list, where) => {
        const { data, starts } = frame(list)
        const cut = 1 + Math.floor(where * (data.length - 1))
        const wholeBefore = starts.filter((start, index) => (starts[index + 1] ?? data.length) <= cut).length
        const { read, failure } = readAll(data.subarray(0, cut))
        expect(read).toEqual(asJson(list.slice(0, wholeBefore)))
        if (starts.includes(cut)) expect(failure).toBeUndefined()
        else expect(failure).toMatchObject({ ok: false, reachesEnd: true, offset: starts[wholeBefore] })
      }),
      { numRuns: 300 },
    )
  })

  it('refuse any record with a flipped byte instead of reading something else', () => {
    fc.assert(
      fc.property(records, fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), fc.integer({ min: 1, max: 255 }), (list, where, mask) => {
        const { data, starts } = frame(list)
        const at = Math.floor(where * data.length)
        const damaged = Buffer.from(data)
        damaged[at] = damaged[at]! ^ mask
        const hit = starts.filter((start) => start <= at).length - 1
        const { read, failure } = readAll(damaged)
        // Every record before the damaged one is read as it was; the damaged one is refused.
        expect(read.slice(0, hit)).toEqual(asJson(list.slice(0, hit)))
        expect(failure?.offset).toBe(starts[hit])
      }),
      { numRuns: 500 },
    )
  })
})
