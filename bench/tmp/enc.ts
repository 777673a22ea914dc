import { randomUUID } from 'node:crypto'
import { crc32 } from 'node:zlib'
const N = 200_000
const recs = Array.from({ length: N }, (_, n) => { const id = randomUUID(); return { k: 'out', t: Date.now(), msgs: [{ to: ['worker-1'], env: { id, type: 'Tick', headers: { 'mailroom.message-id': id, 'mailroom.type': 'Tick', 'mailroom.kind': 'event', 'mailroom.correlation-id': id, 'mailroom.conversation-id': id, 'mailroom.origin': 'outside', 'mailroom.sent-at': new Date().toISOString() }, body: { n } } }] } })
for (let r = 0; r < 3; r++) {
  let t = performance.now(); const jsons = recs.map((x) => JSON.stringify(x)); const s1 = performance.now() - t
  t = performance.now(); let b = 0; for (const j of jsons) b += Buffer.byteLength(j); const s2 = performance.now() - t
  t = performance.now(); for (const j of jsons) b += crc32(j); const s3 = performance.now() - t
  const bufs = jsons.map((j) => Buffer.from(j))
  t = performance.now(); for (const j of bufs) b += crc32(j); const s4 = performance.now() - t
  t = performance.now(); for (const j of jsons) b += (`${j.length} ${'abcdef12'} ` + j + '\n').length; const s5 = performance.now() - t
  const ns = (ms: number) => (ms * 1e6 / N).toFixed(0)
  console.log(`stringify ${ns(s1)} ns, byteLength ${ns(s2)}, crc32(string) ${ns(s3)}, crc32(buffer) ${ns(s4)}, concat ${ns(s5)}; len ${jsons[0]!.length}`)
}
