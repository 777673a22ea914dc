import { randomUUID } from 'node:crypto'
import { Type } from '@sinclair/typebox'
import { defineEvent, defineModule, handle } from '../../src/bus/index.js'
import { prepareOutgoing } from '../../src/bus/pipeline/outgoing.js'
import { createTopology } from '../../src/bus/routing/topology.js'
const gc = globalThis.gc!
const heap = () => { gc(); gc(); return process.memoryUsage().heapUsed }
const Tick = defineEvent('Tick', Type.Object({ n: Type.Integer() }))
const topology = createTopology([defineModule({ name: 'worker-1', handlers: [handle(Tick, async () => {})] })], {})
const N = 100_000
let before = heap()
const ids = Array.from({ length: N }, () => randomUUID())
console.log('uuid strings', Math.round((heap() - before) / N))
before = heap()
const bodies = Array.from({ length: N }, (_, n) => ({ n }))
console.log('bodies', Math.round((heap() - before) / N))
before = heap()
const hs = ids.map((id) => { const h: Record<string, string> = {}; h['mailroom.message-id'] = id; h['mailroom.type'] = 'Tick'; h['mailroom.kind'] = 'event'; h['mailroom.correlation-id'] = id; h['mailroom.conversation-id'] = id; h['mailroom.origin'] = 'outside'; h['mailroom.sent-at'] = 'x'; return h })
console.log('headers built incrementally', Math.round((heap() - before) / N))
// @ts-ignore
console.log('fast properties?', eval('%HasFastProperties(hs[0])'))
before = heap()
const hs2 = ids.map((id) => ({ 'mailroom.message-id': id, 'mailroom.type': 'Tick', 'mailroom.kind': 'event', 'mailroom.correlation-id': id, 'mailroom.conversation-id': id, 'mailroom.origin': 'outside', 'mailroom.sent-at': 'x' }))
console.log('headers literal', Math.round((heap() - before) / N))
before = heap()
const envs = Array.from({ length: N }, (_, n) => prepareOutgoing(topology, { mode: 'publish', definition: Tick, body: { n }, options: undefined, origin: 'outside', incoming: undefined, now: 1_700_000_000_000 }).env)
console.log('prepareOutgoing env', Math.round((heap() - before) / N))
// @ts-ignore
console.log('env headers fast?', eval('%HasFastProperties(envs[0].headers)'), 'body fast?', eval('%HasFastProperties(envs[0].body)'))
console.log(ids.length + bodies.length + hs.length + hs2.length + envs.length)
