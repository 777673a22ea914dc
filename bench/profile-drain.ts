/**
 * `node --import tsx bench/profile-drain.ts [count]`: a stopped module's backlog drained alone, with how
 * late `setTimeout(0)` fired meanwhile (add `--trace-gc` to see which pauses are the collector's, or
 * MAILROOM_PROFILE=drain.cpuprofile for a profile of the drain).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { PerformanceObserver } from 'node:perf_hooks'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Type } from '@sinclair/typebox'
import { createBus, defineEvent, defineModule, handle } from '../src/bus/index.js'
import { percentile, withLagProbe } from './harness.js'
import { profiled } from './profile-section.js'

const Tick = defineEvent('Tick', Type.Object({ n: Type.Integer() }))
const count = Number(process.argv[2] ?? 100_000)
const dataDir = mkdtempSync(join(tmpdir(), 'mailroom-profile-'))
const bus = createBus({ modules: [defineModule({ name: 'worker', concurrency: 64, handlers: [handle(Tick, async () => {})] })], dataDir })
await bus.start()
bus.admin.stopModule('worker')
let next = 0
await Promise.all(Array.from({ length: 1_000 }, async () => {
  while (next < count) await bus.publish(Tick, { n: next++ })
}))
const gcPauses: number[] = []
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcPauses.push(entry.duration)
})
gcObserver.observe({ entryTypes: ['gc'] })
const started = performance.now()
const { lags } = await profiled(() => withLagProbe(async () => {
  bus.admin.startModule('worker')
  await bus.idle()
}))
const ms = performance.now() - started
const late = lags.filter((lag) => lag > 5).length
gcObserver.disconnect()
const longGc = gcPauses.filter((pause) => pause > 4)
console.log(`${Math.round((count / ms) * 1000)} msg/s; setTimeout(0) late by p50 ${percentile(lags, 50).toFixed(1)} ms, p99 ${percentile(lags, 99).toFixed(1)} ms, max ${Math.max(...lags).toFixed(1)} ms; ${late} of ${lags.length} over 5 ms; ${gcPauses.length} collections, ${longGc.length} over 4 ms (${longGc.map((pause) => pause.toFixed(1)).join(', ')})`)
await bus.stop()
rmSync(dataDir, { recursive: true, force: true })
