/** `MAILROOM_PROFILE=recovery.cpuprofile node --import tsx bench/profile-recovery.ts [records]`: start-up replay alone, for profiling. */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Type } from '@sinclair/typebox'
import { createBus, defineEvent, defineModule, handle } from '../src/bus/index.js'
import { encodeRecord } from '../src/bus/outbox/record.js'
import { writeSegments } from './harness.js'
import { profiled } from './profile-section.js'

const Tick = defineEvent('Tick', Type.Object({ n: Type.Integer() }))
const count = Number(process.argv[2] ?? 300_000)
const dataDir = mkdtempSync(join(tmpdir(), 'mailroom-profile-'))
mkdirSync(join(dataDir, '_outside'), { recursive: true })
const lines: Buffer[] = []
for (let n = 0; n < count; n++) {
  const id = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`
  lines.push(encodeRecord({ k: 'out', t: Date.now(), msgs: [{ to: ['worker'], env: { id, type: 'Tick', headers: { 'mailroom.message-id': id, 'mailroom.type': 'Tick', 'mailroom.kind': 'event' }, body: { n } } }] }))
}
writeSegments(join(dataDir, '_outside'), lines)
const bus = createBus({ modules: [defineModule({ name: 'worker', handlers: [handle(Tick, async () => {})] })], dataDir })
bus.admin.stopModule('worker')
const started = performance.now()
const report = await profiled(() => bus.start())
console.log(`${Math.round((report.records / (performance.now() - started)) * 1000)} rec/s, ${report.queued} queued`)
await bus.stop()
rmSync(dataDir, { recursive: true, force: true })
