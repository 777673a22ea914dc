/**
 * `node --expose-gc --import tsx bench/profile-heap.ts`: what a queued message keeps in the heap, part
 * by part, with the bus's own code (envelopes from the outgoing pipeline, states from the ledger).
 */
import { randomUUID } from 'node:crypto'
import { Type } from '@sinclair/typebox'
import { defineEvent, defineModule, handle } from '../src/bus/index.js'
import { FifoQueue } from '../src/bus/endpoint/fifo-queue.js'
import { createDeliveryLedger } from '../src/bus/outbox/delivery-ledger.js'
import { prepareOutgoing } from '../src/bus/pipeline/outgoing.js'
import { createTopology } from '../src/bus/routing/topology.js'

const gc = globalThis.gc
if (!gc) throw new Error('run with node --expose-gc')
const heap = () => {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}
const count = Number(process.argv[2] ?? 100_000)
const perMessage = (before: number) => Math.round((heap() - before) / count)

const Tick = defineEvent('Tick', Type.Object({ n: Type.Integer() }))
const topology = createTopology([defineModule({ name: 'worker-1', handlers: [handle(Tick, async () => {})] })], {})

let before = heap()
const ropes = Array.from({ length: count }, () => randomUUID())
console.log(`crypto.randomUUID() string, as returned: ${perMessage(before)} B`)
before = heap()
const envs = Array.from({ length: count }, (_, n) => prepareOutgoing(topology, { mode: 'publish', definition: Tick, body: { n }, options: undefined, origin: 'outside', incoming: undefined, now: Date.now() }).env)
console.log(`envelope (id, headers, body): ${perMessage(before)} B`)
before = heap()
const ledger = createDeliveryLedger()
const segment = ledger.segment('_outside', 1)
const states = envs.map((env) => ledger.produced(segment, env.id, env, 'worker-1', undefined, Date.now(), 0, 0))
console.log(`delivery state + ledger Map entry + segment list slot: ${perMessage(before)} B`)
before = heap()
const queue = new FifoQueue<unknown>()
for (const state of states) queue.push(state)
console.log(`module queue slot: ${perMessage(before)} B`)
if (ropes.length + envs.length + states.length + queue.length === 0) throw new Error('nothing kept')
