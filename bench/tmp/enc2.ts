import { randomUUID } from 'node:crypto'
const N = 200_000
const mk = (simple: boolean, n: number) => { const id = randomUUID(); const h: Record<string, string> = simple ? { messageId: id, type: 'Tick', kind: 'event', correlationId: id, conversationId: id, origin: 'outside', sentAt: new Date().toISOString() } : { 'mailroom.message-id': id, 'mailroom.type': 'Tick', 'mailroom.kind': 'event', 'mailroom.correlation-id': id, 'mailroom.conversation-id': id, 'mailroom.origin': 'outside', 'mailroom.sent-at': new Date().toISOString() }; return { k: 'out', t: Date.now(), msgs: [{ to: ['worker-1'], env: { id, type: 'Tick', headers: h, body: { n } } }] } }
for (const simple of [false, true, false, true]) {
  const recs = Array.from({ length: N }, (_, n) => mk(simple, n))
  let t = performance.now(); const jsons = recs.map((x) => JSON.stringify(x)); const s1 = performance.now() - t
  t = performance.now(); let b = 0; for (const j of jsons) b += Buffer.from(j).length; const s2 = performance.now() - t
  t = performance.now(); for (const j of jsons) b += /[^\x00-\x7f]/.test(j) ? 1 : 0; const s3 = performance.now() - t
  t = performance.now(); const te = new TextEncoder(); const out = new Uint8Array(4096); for (const j of jsons) b += te.encodeInto(j, out).written!; const s4 = performance.now() - t
  const ns = (ms: number) => (ms * 1e6 / N).toFixed(0)
  console.log(`${simple ? 'simple keys ' : 'dotted keys '} stringify ${ns(s1)} ns, Buffer.from ${ns(s2)}, ascii regex ${ns(s3)}, encodeInto ${ns(s4)}; len ${jsons[0]!.length}`)
}
