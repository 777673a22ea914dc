import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Type } from '@sinclair/typebox'
import { createBus, defineEvent, defineModule, defineTable, handle, type Bus } from '../../src/bus/index.js'
import { encodeRecord } from '../../src/bus/outbox/record.js'
import { perSecond, writeSegments, type Scenario, type ScenarioResult } from '../harness.js'

/**
 * Module data: what a handler's document costs on the durable path, what the audit of conversations
 * costs, and starting up with a million documents on disk.
 */
const Tick = defineEvent('Tick', Type.Object({ n: Type.Integer() }))
const Counts = defineTable('counts', Type.Object({ n: Type.Integer(), at: Type.Number() }))

const tempDir = () => mkdtempSync(join(tmpdir(), 'mailroom-bench-'))

function keeper(writes: boolean) {
  return defineModule({
    name: 'keeper',
    concurrency: 64,
    tables: [Counts],
    handlers: [
      handle(Tick, async (tick, context) => {
        if (writes) context.table(Counts).put(`k-${tick.n}`, { n: tick.n, at: 0 })
      }),
    ],
  })
}

async function sendAll(bus: Bus, count: number, inFlight: number): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < count) await bus.publish(Tick, { n: next++ })
  }))
}

/** Durable send → handle at 100 in flight, the handler writing one document (a new key each) or none. */
async function durable(count: number, writes: boolean, audit: boolean): Promise<number> {
  const dataDir = tempDir()
  const bus = createBus({ modules: [keeper(writes)], dataDir, audit })
  await bus.start()
  const started = performance.now()
  await sendAll(bus, count, 100)
  await bus.idle()
  const rate = perSecond(count, performance.now() - started)
  await bus.stop()
  rmSync(dataDir, { recursive: true, force: true })
  return rate
}

function heapUsed(): number {
  globalThis.gc?.()
  globalThis.gc?.()
  return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers
}

/** `count` documents written to the module's journal as compaction leaves them (`doc` records), then a start. */
async function startUp(count: number): Promise<{ ms: number; bytesPerDocument: number }> {
  const dataDir = tempDir()
  const dir = join(dataDir, 'keeper')
  mkdirSync(dir, { recursive: true })
  const lines: Buffer[] = []
  const t = Date.now()
  // Keys like the shop's order ids; documents of about 100 bytes.
  for (let n = 0; n < count; n++) lines.push(encodeRecord({ k: 'doc', t, table: 'counts', key: `ord-${n.toString(16).padStart(8, '0')}`, seq: n + 1, doc: { n, at: t } }))
  writeSegments(dir, lines)
  lines.length = 0
  const before = heapUsed()
  const bus = createBus({ modules: [keeper(true)], dataDir, audit: false })
  const started = performance.now()
  await bus.start()
  const ms = performance.now() - started
  const bytesPerDocument = (heapUsed() - before) / count
  const found = await bus.table(Counts).count()
  if (found !== count) throw new Error(`started with ${found} of ${count} documents`)
  const sample = await bus.table(Counts).get(`ord-${(count - 1).toString(16).padStart(8, '0')}`)
  if (sample?.n !== count - 1) throw new Error('a document did not read back')
  await bus.stop()
  rmSync(dataDir, { recursive: true, force: true })
  return { ms, bytesPerDocument }
}

export const dataScenarios: Scenario = async ({ quick, rounds: n }) => {
  const results: ScenarioResult[] = []
  const count = quick ? 10_000 : 50_000
  // The three variants take turns, round by round, after one warm-up of each: this disk's rate moves by
  // half from one minute to the next, and alternating lets all three share the same minutes.
  const variants = [
    { writes: false, audit: false, rates: [] as number[] },
    { writes: true, audit: false, rates: [] as number[] },
    { writes: false, audit: true, rates: [] as number[] },
  ]
  for (const variant of variants) await durable(Math.min(count, 5_000), variant.writes, variant.audit)
  for (let round = 0; round < n; round++) for (const variant of variants) variant.rates.push(await durable(count, variant.writes, variant.audit))
  results.push({ name: 'data: handler writes nothing, 100 in flight', unit: 'msg/s', rounds: variants[0]!.rates })
  results.push({
    name: 'data: handler writes one document, 100 in flight',
    unit: 'msg/s',
    rounds: variants[1]!.rates,
    reference: 'data: handler writes nothing, 100 in flight',
    target: '>= 0.8x writing nothing',
  })
  results.push({
    name: 'data: handler writes nothing, with the audit',
    unit: 'msg/s',
    rounds: variants[2]!.rates,
    reference: 'data: handler writes nothing, 100 in flight',
  })
  const documents = quick ? 100_000 : 1_000_000
  const starts = []
  for (let i = 0; i < n; i++) starts.push(await startUp(documents))
  results.push({
    name: `data: start-up with ${quick ? '100k' : '1M'} documents on disk`,
    unit: 'ms',
    rounds: starts.map((start) => start.ms),
    target: '<= 5,000 ms (1M); <= 200 B heap a document',
    extra: { 'heap B/doc': Math.round(starts.map((start) => start.bytesPerDocument).sort((a, b) => a - b)[Math.floor(n / 2)]!) },
  })
  return results
}
