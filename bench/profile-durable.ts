/**
 * `MAILROOM_PROFILE=out.cpuprofile node --import tsx bench/profile-durable.ts [count] [senders]`: the durable hot path alone, for
 * profiling. `MAILROOM_BENCH_TELEMETRY=1`: with OpenTelemetry's SDK recording every span and metric (bench/telemetry-on.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Type } from '@sinclair/typebox'
import { createBus, defineEvent, defineModule, handle } from '../src/bus/index.js'
import { profiled } from './profile-section.js'
import { startTelemetryIfAsked } from './telemetry-on.js'

const telemetry = startTelemetryIfAsked()
const Tick = defineEvent('Tick', Type.Object({ n: Type.Integer() }))
const dataDir = mkdtempSync(join(tmpdir(), 'mailroom-profile-'))
const bus = createBus({ modules: [defineModule({ name: 'worker', concurrency: 64, handlers: [handle(Tick, async () => {})] })], dataDir })
await bus.start()
const count = Number(process.argv[2] ?? 50_000)
const senders = Number(process.argv[3] ?? 100)
let next = 0
const started = performance.now()
await profiled(async () => {
  await Promise.all(Array.from({ length: senders }, async () => {
    while (next < count) await bus.publish(Tick, { n: next++ })
  }))
  await bus.idle()
})
console.log(`${Math.round((count / (performance.now() - started)) * 1000)} msg/s`)
await bus.stop()
await telemetry?.shutdown()
rmSync(dataDir, { recursive: true, force: true })
