import { encodeRecord, decodeRecordAt } from '../../src/bus/outbox/record.js'
import { crc32 } from 'node:zlib'
const count = 300_000
const lines: Buffer[] = []
for (let n = 0; n < count; n++) {
  const id = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`
  lines.push(encodeRecord({ k: 'out', t: Date.now(), msgs: [{ to: ['worker'], env: { id, type: 'Tick', headers: { 'mailroom.message-id': id, 'mailroom.type': 'Tick', 'mailroom.kind': 'event' }, body: { n } } }] }))
}
const data = Buffer.concat(lines)
for (let r = 0; r < 3; r++) {
  let t = performance.now(); let off = 0, k = 0
  while (off < data.length) { const res = decodeRecordAt(data, off); if (!res.ok) throw new Error(); off = res.next; k++ }
  const dec = performance.now() - t
  t = performance.now(); crc32(data); const crcAll = performance.now() - t
  t = performance.now(); off = 0
  const td = new TextDecoder()
  for (const l of lines) { const sp = l.indexOf(32, l.indexOf(32) + 1); JSON.parse(td.decode(l.subarray(sp + 1, l.length - 1))) }
  const parse = performance.now() - t
  console.log(`decode ${Math.round(k / dec * 1000)} rec/s; crc of all ${crcAll.toFixed(0)} ms; parse-only ${Math.round(count / parse * 1000)} rec/s; bytes/rec ${Math.round(data.length / count)}`)
}
