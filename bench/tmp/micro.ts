import { randomUUID } from 'node:crypto'
import { Type } from '@sinclair/typebox'
import { defineEvent } from '../../src/bus/index.js'
const Tick = defineEvent('Tick', Type.Object({ n: Type.Integer() }))
const N = 1_000_000
function time(name: string, fn: (i: number) => unknown) {
  for (let i = 0; i < 100000; i++) fn(i)
  const t = performance.now(); let x: unknown
  for (let i = 0; i < N; i++) x = fn(i)
  const ns = ((performance.now() - t) * 1e6) / N
  console.log(name.padEnd(40), ns.toFixed(0), 'ns', typeof x === 'symbol' ? '' : '')
}
time('validate', (i) => Tick.validate({ n: i }))
time('randomUUID', () => randomUUID())
time('toISOString', (i) => new Date(1e12 + i).toISOString())
time('headers obj', (i) => { const h: Record<string,string> = {}; h['mailroom.message-id']='a'+i; h['mailroom.type']='Tick'; h['mailroom.kind']='event'; h['mailroom.correlation-id']='x'; h['mailroom.conversation-id']='x'; h['mailroom.origin']='outside'; h['mailroom.sent-at']='2026'; return h })
time('JSON.stringify env', (i) => JSON.stringify({ k: 'out', t: 1e12, msgs: [{ to: ['w'], env: { id: randomUUID(), type: 'Tick', headers: { a: 'b', c: 'd', e: 'f', g: 'h', i: 'j', k: 'l', m: 'n' }, body: { n: i } } }] }))
const m = new Map<string, object>()
time('map set+delete', (i) => { const k = 'w\u0000' + i; m.set(k, {}); if (i > 100) m.delete('w\u0000' + (i - 100)) })
