/** `MAILROOM_PROFILE=out.cpuprofile node --import tsx bench/profile-memory.ts`: the in-memory hot path alone, for profiling. */
import { Type } from '@sinclair/typebox'
import { createBus, defineEvent, defineModule, handle } from '../src/bus/index.js'
import { profiled } from './profile-section.js'

const Tick = defineEvent('Tick', Type.Object({ n: Type.Integer() }))
const bus = createBus({ modules: [defineModule({ name: 'worker', concurrency: 64, handlers: [handle(Tick, async () => {})] })], storage: 'memory' })
await bus.start()
const count = Number(process.argv[2] ?? 200_000)
const started = performance.now()
await profiled(async () => {
  for (let n = 0; n < count; n += 1_000) await Promise.all(Array.from({ length: 1_000 }, (_, i) => bus.publish(Tick, { n: n + i })))
  await bus.idle()
})
console.log(`${Math.round((count / (performance.now() - started)) * 1000)} msg/s`)
await bus.stop()
