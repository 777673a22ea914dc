import { randomUUID } from 'node:crypto'
import { RecordLines, type JournalRecord } from '../../src/bus/outbox/record.js'
const N = 200_000
for (let r = 0; r < 4; r++) {
  let lines = new RecordLines()
  let total = 0, sTotal = 0
  for (let n = 0; n < N; n++) {
    const id = randomUUID()
    const rec: JournalRecord = { k: 'out', t: Date.now(), msgs: [{ to: ['worker-1'], env: { id, type: 'Tick', headers: { 'mailroom.message-id': id, 'mailroom.type': 'Tick', 'mailroom.kind': 'event', 'mailroom.correlation-id': id, 'mailroom.conversation-id': id, 'mailroom.origin': 'outside', 'mailroom.sent-at': '2026-11-24T19:00:00.000Z' }, body: { n } } }] }
    if (n % 1000 === 0) lines = new RecordLines()
    let t = performance.now(); JSON.stringify(rec); sTotal += performance.now() - t
    t = performance.now(); lines.append(rec); total += performance.now() - t
  }
  console.log(`warm: stringify ${(sTotal * 1e6 / N).toFixed(0)} ns, append (incl. stringify) ${(total * 1e6 / N).toFixed(0)} ns`)
}
