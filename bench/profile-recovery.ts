/** `MAILROOM_PROFILE=recovery.cpuprofile node --import tsx bench/profile-recovery.ts [records]`: start-up replay alone, for profiling. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Type } from '@sinclair/typebox'
import { createBus, defineEvent, defineModule, handle } from '../src/bus/index.js'
import { writeOutBacklog } from './harness.js'
import { profiled } from './profile-section.js'

const Tick = defineEvent('Tick', Type.Object({ n: Type.Integer() }))
const count = Number(process.argv[2] ?? 300_000)
const dataDir = mkdtempSync(join(tmpdir(), 'mailroom-profile-'))
writeOutBacklog(dataDir, count, 'worker')
const bus = createBus({ modules: [defineModule({ name: 'worker', handlers: [handle(Tick, async () => {})] })], dataDir })
bus.admin.stopModule('worker')
const started = performance.now()
const report = await profiled(() => bus.start())
console.log(`${Math.round((report.records / (performance.now() - started)) * 1000)} rec/s, ${report.queued} queued`)
await bus.stop()
rmSync(dataDir, { recursive: true, force: true })
