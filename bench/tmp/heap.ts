import { Type } from '@sinclair/typebox'
import { createBus, defineEvent, defineModule, handle } from '../../src/bus/index.js'
import { prepareOutgoing } from '../../src/bus/pipeline/outgoing.js'
import { createTopology } from '../../src/bus/routing/topology.js'
const gc = globalThis.gc!
const heap = () => { gc(); gc(); return process.memoryUsage().heapUsed }
const Tick = defineEvent('Tick', Type.Object({ n: Type.Integer() }))
const mod = defineModule({ name: 'worker-1', handlers: [handle(Tick, async () => {})] })
const topology = createTopology([mod], {})
const N = 100_000
let before = heap()
const envs = Array.from({ length: N }, (_, n) => prepareOutgoing(topology, { mode: 'publish', definition: Tick, body: { n }, options: undefined, origin: 'outside', incoming: undefined, now: Date.now() + Math.floor(n / 50) }).env)
console.log('envelope (id string, headers, body) B/msg', Math.round((heap() - before) / N))
before = heap()
const states = envs.map((env) => ({ id: env.id, module: 'worker-1', producer: undefined, destination: undefined, older: [], kind: undefined, env, at: undefined, failures: undefined, since: 0, writing: 0 }))
console.log('delivery state object B/msg', Math.round((heap() - before) / N))
before = heap()
const map = new Map(states.map((s) => [s.id, s]))
console.log('ledger map entry B/msg', Math.round((heap() - before) / N))
before = heap()
const arr1: unknown[] = []; const arr2: unknown[] = []
for (const s of states) { arr1.push(s); arr2.push(s) }
console.log('segment list + queue slots B/msg', Math.round((heap() - before) / N))
console.log(envs.length + states.length + map.size + arr1.length + arr2.length > 0)
