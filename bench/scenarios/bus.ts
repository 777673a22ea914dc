import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Type } from '@sinclair/typebox'
import { createBus, defineEvent, defineModule, handle, type Bus } from '../../src/bus/index.js'
import { perSecond, rounds, roundsWithFigure, withLagProbe, writeOutBacklog, type Scenario, type ScenarioResult } from '../harness.js'

const Tick = defineEvent('Tick', Type.Object({ n: Type.Integer() }))

function tickModules(subscribers: number) {
  return Array.from({ length: subscribers }, (_, i) =>
    defineModule({ name: `worker-${i + 1}`, concurrency: 64, handlers: [handle(Tick, async () => {})] }),
  )
}

const tempDir = () => mkdtempSync(join(tmpdir(), 'mailroom-bench-'))

async function sendAll(bus: Bus, count: number, inFlight: number): Promise<void> {
  let next = 0
  const sender = async () => {
    while (next < count) await bus.publish(Tick, { n: next++ })
  }
  await Promise.all(Array.from({ length: inFlight }, sender))
}

/** In-memory mode: publish → handle, all of it, until every queue is drained. */
async function inMemory(count: number, subscribers: number): Promise<number> {
  const bus = createBus({ modules: tickModules(subscribers), storage: 'memory' })
  await bus.start()
  const started = performance.now()
  await sendAll(bus, count, 1_000)
  await bus.idle()
  const rate = perSecond(count * subscribers, performance.now() - started)
  await bus.stop()
  return rate
}

/**
 * In-memory mode, the queue's depth held at `depth`: that many messages queued for a stopped module, then
 * the module started and timed until its queue is empty, again until `total` messages are handled.
 */
async function inMemoryDrain(depth: number, total: number): Promise<number> {
  const bus = createBus({ modules: tickModules(1), storage: 'memory' })
  await bus.start()
  let drainingMs = 0
  for (let handled = 0; handled < total; handled += depth) {
    bus.admin.stopModule('worker-1')
    await sendAll(bus, depth, 1_000)
    const started = performance.now()
    bus.admin.startModule('worker-1')
    await bus.idle()
    drainingMs += performance.now() - started
  }
  await bus.stop()
  return perSecond(total, drainingMs)
}

/**
 * Durable (the default): every handled message is one fsync'd journal commit (shared by a group). Also
 * says how many records each synced write carried on average (two records a message: the send and the
 * consumed mark; compaction's few writes included), which shows how well the group commit batches.
 */
async function durable(count: number, senders: number): Promise<{ rate: number; figure: number }> {
  const dataDir = tempDir()
  const bus = createBus({ modules: tickModules(1), dataDir })
  await bus.start()
  const writesBefore = bus.fileSystem.stats.appends
  const started = performance.now()
  await sendAll(bus, count, senders)
  await bus.idle()
  const rate = perSecond(count, performance.now() - started)
  const writes = bus.fileSystem.stats.appends - writesBefore
  await bus.stop()
  rmSync(dataDir, { recursive: true, force: true })
  return { rate, figure: (2 * count) / writes }
}

function heapUsed(): number {
  globalThis.gc?.()
  return process.memoryUsage().heapUsed
}

/** A stopped module's backlog of `count` messages, then started: drain rate, heap per queued message, event-loop lag. */
async function backlog(count: number): Promise<{ drainRate: number; bytesPerMessage: number; maxLagMs: number; p99LagMs: number }> {
  const dataDir = tempDir()
  const bus = createBus({ modules: tickModules(1), dataDir })
  await bus.start()
  bus.admin.stopModule('worker-1')
  const before = heapUsed()
  await sendAll(bus, count, 1_000)
  const after = heapUsed()
  const started = performance.now()
  const { maxLagMs, p99LagMs } = await withLagProbe(async () => {
    bus.admin.startModule('worker-1')
    await bus.idle()
  })
  const drainRate = perSecond(count, performance.now() - started)
  await bus.stop()
  rmSync(dataDir, { recursive: true, force: true })
  return { drainRate, bytesPerMessage: (after - before) / count, maxLagMs, p99LagMs }
}

/** Start-up with `count` journal records to replay (written straight to the file, as a long run would leave them). */
async function recovery(count: number): Promise<number> {
  const dataDir = tempDir()
  writeOutBacklog(dataDir, count, 'worker-1')
  const bus = createBus({ modules: tickModules(1), dataDir })
  bus.admin.stopModule('worker-1')
  const started = performance.now()
  const report = await bus.start()
  const rate = perSecond(report.records, performance.now() - started)
  if (report.queued !== count) throw new Error(`recovered ${report.queued} of ${count}`)
  await bus.stop()
  rmSync(dataDir, { recursive: true, force: true })
  return rate
}

export const busScenarios: Scenario = async ({ quick, rounds: n }) => {
  const results: ScenarioResult[] = []
  const memoryCount = quick ? 100_000 : 1_000_000
  results.push({ name: 'memory: publish -> 1 handler', unit: 'msg/s', rounds: await rounds(n, () => inMemory(memoryCount, 1)), reference: 'ref: JSON line encode, 2 records per msg', target: '>= 1,000,000 msg/s' })
  results.push({ name: 'memory: publish -> 2 handlers', unit: 'msg/s', rounds: await rounds(n, () => inMemory(memoryCount / 2, 2)), reference: 'ref: JSON line encode, 2 records per msg' })
  const deep = quick ? { depth: 100_000, label: '100,000' } : { depth: 1_000_000, label: '1,000,000' }
  results.push({ name: 'memory: drain, 1,000 queued', unit: 'msg/s', rounds: await rounds(n, () => inMemoryDrain(1_000, quick ? 50_000 : 200_000)) })
  results.push({
    name: `memory: drain, ${deep.label} queued`,
    unit: 'msg/s',
    rounds: await rounds(n, () => inMemoryDrain(deep.depth, deep.depth)),
    reference: 'memory: drain, 1,000 queued',
    target: 'the same rate as 1,000 queued',
  })
  for (const senders of [1, 10, 100, 1_000]) {
    const count = quick ? Math.min(5_000, senders * 500) : Math.min(50_000, senders * 2_000)
    results.push({
      name: `durable: send -> handle, ${senders} in flight`,
      unit: 'msg/s',
      ...(await roundsWithFigure(n, 'records per write', () => durable(count, senders))),
      reference: 'ref: fsync group commit, 100 writers',
      ...(senders === 100 ? { target: '>= 100,000 msg/s' } : {}),
    })
  }
  const backlogs = []
  for (let i = 0; i < n; i++) backlogs.push(await backlog(quick ? 20_000 : 100_000))
  results.push({
    name: `backlog: drain ${quick ? '20k' : '100k'} after start`,
    unit: 'msg/s',
    rounds: backlogs.map((b) => b.drainRate),
    reference: 'durable: send -> handle, 100 in flight',
    target: '>= 0.8x steady; <= 300 B/msg; lag <= 5 ms',
    extra: {
      'heap B/msg': Math.round(backlogs.map((b) => b.bytesPerMessage).sort((a, b) => a - b)[Math.floor(n / 2)]!),
      'max lag ms': Number(Math.max(...backlogs.map((b) => b.maxLagMs)).toFixed(1)),
      'p99 lag ms': Number(Math.max(...backlogs.map((b) => b.p99LagMs)).toFixed(1)),
    },
  })
  results.push({
    name: `recovery: replay ${quick ? '100k' : '1M'} records`,
    unit: 'rec/s',
    rounds: await rounds(n, () => recovery(quick ? 100_000 : 1_000_000)),
    reference: 'ref: replay floor (id, state, Map entry a record)',
    target: '>= 500,000 rec/s',
  })
  return results
}
