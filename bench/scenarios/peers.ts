import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Bus, handlerFor } from '@node-ts/bus-core'
import { Event } from '@node-ts/bus-messages'
import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { perSecond, rounds, type Scenario, type ScenarioResult } from '../harness.js'

class Ticked extends Event {
  static readonly NAME = 'bench/ticked'
  readonly $name = Ticked.NAME
  readonly $version = 1
  constructor(readonly n: number) {
    super()
  }
}

/** @node-ts/bus-core with its default in-memory queue (not durable): publish -> handler(s). */
async function nodeTsBus(count: number, handlers: number): Promise<number> {
  let handled = 0
  let done!: () => void
  const finished = new Promise<void>((resolve) => (done = resolve))
  const onTick = async () => {
    if (++handled === count * handlers) done()
  }
  let configuration = Bus.configure()
  // node-ts registers handlers by function name, so each subscriber needs a function of its own.
  for (let i = 0; i < handlers; i++) {
    const subscriber = { [`onTick${i}`]: async () => onTick() }[`onTick${i}`]!
    configuration = configuration.withHandler(handlerFor(Ticked, subscriber))
  }
  const bus = configuration.build()
  await bus.initialize()
  await bus.start()
  const started = performance.now()
  for (let n = 0; n < count; n += 1_000) await Promise.all(Array.from({ length: Math.min(1_000, count - n) }, (_, i) => bus.publish(new Ticked(n + i))))
  await finished
  const rate = perSecond(count * handlers, performance.now() - started)
  await bus.dispose()
  return rate
}

async function startRedis(port: number): Promise<() => Promise<void>> {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-bench-redis-'))
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--dir', dir], { stdio: 'ignore' })
  await sleep(300)
  return async () => {
    server.kill('SIGTERM')
    await new Promise((resolve) => server.once('exit', resolve))
    rmSync(dir, { recursive: true, force: true })
  }
}

/** BullMQ on a local redis-server with appendfsync always (every write fsync'd): add -> process. */
async function bullmq(count: number, port: number): Promise<number> {
  // Under ESM, BullMQ wants ready-made clients rather than connection options.
  const connection = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: null })
  const workerConnection = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: null })
  const name = `bench-${Date.now()}`
  const queue = new Queue(name, { connection })
  let processed = 0
  let done!: () => void
  const finished = new Promise<void>((resolve) => (done = resolve))
  const worker = new Worker(name, async () => {}, { connection: workerConnection, concurrency: 100 })
  worker.on('completed', () => {
    if (++processed === count) done()
  })
  await worker.waitUntilReady()
  const started = performance.now()
  let next = 0
  const producer = async () => {
    while (next < count) await queue.add('tick', { n: next++ }, { removeOnComplete: true })
  }
  await Promise.all(Array.from({ length: 100 }, producer))
  await finished
  const rate = perSecond(count, performance.now() - started)
  await worker.close()
  await queue.obliterate({ force: true }).catch(() => {})
  await queue.close()
  connection.disconnect()
  workerConnection.disconnect()
  return rate
}

/** The issue's peer targets are ratios of this row (in the bus group) to the peers' rows. */
const durableAt100 = 'durable: send -> handle, 100 in flight'
const bullmqName = 'peer: BullMQ, redis appendfsync always'
const bullmqTarget = '>= 15x (durable at 100 in flight ÷ this)'

export const peerScenarios: Scenario = async ({ quick, rounds: n }) => {
  const results: ScenarioResult[] = []
  // @node-ts/bus-core slows as its in-memory queue grows (1.1-1.4k msg/s with 20k published, 170-200 with
  // 50k, here): 50k keeps a full run within minutes.
  const count = quick ? 20_000 : 50_000
  results.push({ name: 'peer: @node-ts/bus-core in-memory, 1 handler', unit: 'msg/s', rounds: await rounds(n, () => nodeTsBus(count, 1)), peerOf: durableAt100, target: '>= 6x (durable at 100 in flight ÷ this)' })
  results.push({ name: 'peer: @node-ts/bus-core in-memory, 2 handlers', unit: 'msg/s', rounds: await rounds(n, () => nodeTsBus(count / 2, 2)), peerOf: durableAt100 })
  try {
    const port = 6391
    const stop = await startRedis(port)
    try {
      results.push({ name: bullmqName, unit: 'msg/s', rounds: await rounds(n, () => bullmq(quick ? 2_000 : 10_000, port)), peerOf: durableAt100, target: bullmqTarget })
    } finally {
      await stop()
    }
  } catch (error) {
    results.push({ name: bullmqName, unit: 'msg/s', rounds: [0], peerOf: durableAt100, target: bullmqTarget, extra: { skipped: `redis-server: ${(error as Error).message}` } })
  }
  return results
}
