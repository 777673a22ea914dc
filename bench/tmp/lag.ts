import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Type } from '@sinclair/typebox'
import { createBus, defineEvent, defineModule, handle } from '../../src/bus/index.js'
import { withLagProbe } from '../harness.js'
const Tick = defineEvent('Tick', Type.Object({ n: Type.Integer() }))
const count = Number(process.argv[2] ?? 20000)
for (let round = 0; round < 3; round++) {
  const dataDir = mkdtempSync(join(tmpdir(), 'lag-'))
  const bus = createBus({ modules: [defineModule({ name: 'w', concurrency: 64, handlers: [handle(Tick, async () => {})] })], dataDir })
  await bus.start()
  bus.admin.stopModule('w')
  let next = 0
  await Promise.all(Array.from({ length: 1000 }, async () => { while (next < count) await bus.publish(Tick, { n: next++ }) }))
  const t = performance.now()
  const { maxLagMs, p99LagMs } = await withLagProbe(async () => { bus.admin.startModule('w'); await bus.idle() })
  console.log(`drain ${Math.round(count / (performance.now() - t) * 1000)} msg/s, max lag ${maxLagMs.toFixed(1)} ms, p99 ${p99LagMs.toFixed(1)} ms`)
  await bus.stop()
  rmSync(dataDir, { recursive: true, force: true })
}
