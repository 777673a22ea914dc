import { describe, expect, it } from 'vitest'
import { decodeRecordAt, encodeRecord, type JournalRecord } from '../../../src/bus/outbox/record.js'

const record: JournalRecord = { k: 'handled', t: 1, id: 'm-1', msgs: [{ to: ['billing'], env: { id: 'm-2', type: 'OrderPlaced', headers: {}, body: { orderId: 'ö-1' } } }] }

describe('record framing', () => {
  it('writes one readable line: byte length, CRC-32, JSON', () => {
    const line = encodeRecord(record).toString('utf8')
    expect(line).toMatch(/^\d+ [0-9a-f]{8} \{"k":"handled"/)
    expect(line.endsWith('\n')).toBe(true)
    const json = line.slice(line.indexOf('{'), -1)
    expect(Number(line.split(' ')[0])).toBe(Buffer.byteLength(json))
  })

  it('frames a record whose UTF-8 length has more digits than its length in characters', () => {
    // {"k":"archived","t":1,"id":"…"} is 29 characters around the id: 70 characters in all, 110 bytes.
    const wide: JournalRecord = { k: 'archived', t: 1, id: `${'é'.repeat(40)}x` }
    const line = encodeRecord(wide)
    const json = JSON.stringify(wide)
    expect(json.length).toBeLessThan(100)
    expect(line.toString('utf8')).toMatch(new RegExp(`^${Buffer.byteLength(json)} [0-9a-f]{8} \\{"k":"archived"`))
    expect(Buffer.byteLength(json)).toBeGreaterThanOrEqual(100)
    expect(decodeRecordAt(line, 0)).toMatchObject({ ok: true, record: wide, next: line.length })
  })

  it('reads back what it wrote, record after record', () => {
    const data = Buffer.concat([encodeRecord(record), encodeRecord({ k: 'archived', t: 2, id: 'x' })])
    const first = decodeRecordAt(data, 0)
    expect(first).toMatchObject({ ok: true, record })
    const second = decodeRecordAt(data, first.ok ? first.next : -1)
    expect(second).toMatchObject({ ok: true, record: { k: 'archived', id: 'x' }, next: data.length })
  })

  it('reports a record cut short as reaching the end (a torn tail)', () => {
    const data = encodeRecord(record)
    for (const cut of [1, 5, 12, data.length - 1]) {
      const result = decodeRecordAt(data.subarray(0, cut), 0)
      expect(result).toMatchObject({ ok: false, reachesEnd: true })
    }
  })

  it('detects a flipped byte in the JSON by its checksum', () => {
    const data = encodeRecord(record)
    const flipped = Buffer.from(data)
    const at = flipped.indexOf('billing')
    flipped[at] = 'B'.charCodeAt(0)
    expect(decodeRecordAt(flipped, 0)).toMatchObject({ ok: false, reason: 'checksum mismatch' })
  })
})
