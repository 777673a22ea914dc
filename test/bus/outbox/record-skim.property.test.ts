import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { skimOutRecord } from '../../../src/bus/outbox/record-skim.js'
import type { JournalRecord } from '../../../src/bus/outbox/record.js'
import type { OutgoingEntry } from '../../../src/bus/delivery/delivery.js'

const anyText = fc.string({ unit: 'binary', maxLength: 40 })
const plainText = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_.'), minLength: 1, maxLength: 40 })
const envelope = (id: fc.Arbitrary<string>) =>
  fc.record({
    id,
    type: anyText,
    headers: fc.dictionary(anyText, anyText, { maxKeys: 6 }),
    // Bodies hold every kind of JSON, quotes, backslashes and braces inside strings included.
    body: fc.jsonValue({ maxDepth: 4 }),
  })
const entry = (name: fc.Arbitrary<string>, id: fc.Arbitrary<string>, at: fc.Arbitrary<number>): fc.Arbitrary<OutgoingEntry> =>
  fc.record({ to: fc.array(name, { minLength: 1, maxLength: 3 }), at, env: envelope(id) }, { requiredKeys: ['to', 'env'] })
const outRecord = (name: fc.Arbitrary<string>, id: fc.Arbitrary<string>, at: fc.Arbitrary<number>, t: fc.Arbitrary<number>) =>
  fc.record({ k: fc.constant('out' as const), t, msgs: fc.array(entry(name, id, at), { minLength: 1, maxLength: 4 }) })

const utf8 = new TextEncoder()
const skim = (record: JournalRecord) => skimOutRecord(utf8.encode(JSON.stringify(record)))
/** What replay needs of an `out` record, taken from the record itself. */
const index = (record: { t: number; msgs: OutgoingEntry[] }) => ({
  k: 'out-skimmed',
  t: record.t,
  msgs: record.msgs.map(({ to, at, env }) => (at === undefined ? { to, id: env.id } : { to, at, id: env.id })),
})

describe('skimming out records for replay (property-based)', () => {
  it('reads destinations, due times and ids exactly as JSON.parse would, for the records the bus writes', () => {
    const millis = fc.integer({ min: 0, max: 4_102_444_800_000 })
    fc.assert(
      fc.property(outRecord(plainText, plainText, millis, millis), (record) => {
        expect(skim(record)).toEqual(index(record))
      }),
      { numRuns: 500 },
    )
  })

  it('never reads anything else wrong: it reads the same as JSON.parse or declines', () => {
    const anyNumber = fc.oneof(fc.integer({ min: -10, max: 10 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: 0 }))
    fc.assert(
      fc.property(outRecord(anyText, anyText, anyNumber, anyNumber), (record) => {
        const skimmed = skim(record)
        if (skimmed !== undefined) expect(skimmed).toEqual(index(JSON.parse(JSON.stringify(record)) as typeof record))
      }),
      { numRuns: 500 },
    )
  })

  it('declines other kinds, other key orders, and cut or padded records', () => {
    const env = { id: 'm-1', type: 'Tick', headers: {}, body: { n: 1 } }
    expect(skim({ k: 'handled', t: 1, id: 'm-1', msgs: [{ to: ['a'], env }] })).toBeUndefined()
    expect(skimOutRecord(utf8.encode('{"t":1,"k":"out","msgs":[{"to":["a"],"env":{"id":"m-1"}}]}'))).toBeUndefined()
    const whole = JSON.stringify({ k: 'out', t: 1, msgs: [{ to: ['a'], env }] })
    expect(skimOutRecord(utf8.encode(whole))).toEqual({ k: 'out-skimmed', t: 1, msgs: [{ to: ['a'], id: 'm-1' }] })
    expect(skimOutRecord(utf8.encode(whole.slice(0, -1)))).toBeUndefined()
    expect(skimOutRecord(utf8.encode(`${whole} `))).toBeUndefined()
    expect(skimOutRecord(utf8.encode(whole.replace('"env":{"id":"m-1"', '"env":{"id":"m\\u002d1"')))).toBeUndefined()
  })
})
