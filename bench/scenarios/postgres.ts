import { Type } from '@sinclair/typebox'
import pg from 'pg'
import PgBoss from 'pg-boss'
import { Logger, makeWorkerUtils, run } from 'graphile-worker'
import { Connection } from 'rabbitmq-client'
import { amqpNames, createAmqpTransport } from '../../src/bus/amqp.js'
import { createBus, defineCommand, defineModule, handle, type Transport } from '../../src/bus/index.js'
import { postgresPersistence, postgresTransport } from '../../src/bus/postgres.js'
import { perSecond, rounds, type Scenario, type ScenarioResult } from '../harness.js'

/**
 * Mailroom on its PostgreSQL persistence beside pg-boss and graphile-worker, on the same server in the same
 * run (POSTGRES_URL, default the local one): with the embedded transport, with the PostgreSQL transport
 * (every message through its queue table, as between processes), and with RabbitMQ (RABBITMQ_URL). Each of
 * `inFlight` clients repeats: send one message, wait until it is handled (Mailroom: the handler ran and
 * its transaction committed; pg-boss: send, fetch, complete; graphile-worker: add the job, its task ran).
 */
const url = process.env.POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test'
const Tick = defineCommand('Tick', Type.Object({ n: Type.Integer() }))

async function dropSchemas(prefix: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 1 })
  const { rows } = await pool.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE nspname = $1 OR nspname LIKE $2', [prefix, `${prefix}\\_%`])
  for (const { nspname } of rows) await pool.query(`DROP SCHEMA "${nspname}" CASCADE`)
  await pool.end()
}

const rabbitUrl = process.env.RABBITMQ_URL || 'amqp://guest:guest@127.0.0.1:5672'

/**
 * Mailroom, PostgreSQL persistence, the transport `over` names: send -> handle, `inFlight` at a time. With
 * `senderApart`, the sends come from a second bus that runs no module (as the shop's web process does),
 * so the PostgreSQL transport cannot hand a message to the module's consumer in the sender's process.
 */
async function mailroom(count: number, inFlight: number, over: 'embedded' | 'postgres' | 'rabbitmq' = 'embedded', senderApart = false): Promise<number> {
  const prefix = `bench_mailroom_${Date.now().toString(36)}`
  const transports: Record<typeof over, () => Transport | undefined> = {
    embedded: () => undefined,
    postgres: () => postgresTransport({ connectionString: url, prefix, maxConnections: Math.min(inFlight + 2, 20) }),
    rabbitmq: () => createAmqpTransport({ url: rabbitUrl, namespace: prefix }),
  }
  const transport = transports[over]()
  /** Per message (by its number): called once it is handled and committed. Set before the send. */
  const waiting = new Map<number, () => void>()
  /** The number of each message being handled, by id, until its commit is signalled. */
  const numberOf = new Map<string, number>()
  const worker = defineModule({ name: 'worker', concurrency: inFlight, handlers: [handle(Tick, async ({ n }, context) => void numberOf.set(context.messageId, n))] })
  const bus = createBus({ modules: [worker], routes: { Tick: 'worker' }, persistence: postgresPersistence({ connectionString: url, prefix, maxConnections: Math.min(inFlight + 6, 40) }), ...(transport ? { transport } : {}) })
  bus.signals.on('message:handled', ({ id }) => {
    const n = numberOf.get(id)
    numberOf.delete(id)
    if (n !== undefined) waiting.get(n)?.()
  })
  await bus.start()
  const sender = senderApart ? createBus({ modules: [worker], routes: { Tick: 'worker' }, runHere: [], persistence: postgresPersistence({ connectionString: url, prefix, maxConnections: Math.min(inFlight + 6, 40) }), transport: transports[over]()! }) : bus
  if (senderApart) await sender.start()
  let next = 0
  const client = async () => {
    while (next < count) {
      const n = next++
      const handled = new Promise<void>((resolve) => waiting.set(n, resolve))
      await sender.send(Tick, { n })
      await handled
      waiting.delete(n)
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: inFlight }, client))
  const rate = perSecond(count, performance.now() - started)
  if (senderApart) await sender.stop()
  await bus.stop()
  await dropSchemas(prefix)
  if (over === 'rabbitmq') await deleteAmqpNamespace(prefix)
  return rate
}

/** The queues and exchanges a RabbitMQ run declared. */
async function deleteAmqpNamespace(namespace: string): Promise<void> {
  const connection = new Connection(rabbitUrl)
  const names = amqpNames(namespace)
  for (const queue of [names.queueOf('worker'), names.error, names.undecodable]) await connection.queueDelete({ queue }).catch(() => undefined)
  for (const exchange of [names.events, names.status, names.control]) await connection.exchangeDelete({ exchange }).catch(() => undefined)
  await connection.close()
}

/** pg-boss 10: send -> fetch -> complete, `inFlight` clients at a time. */
async function pgBoss(count: number, inFlight: number): Promise<number> {
  const schema = `bench_pgboss_${Date.now().toString(36)}`
  const boss = new PgBoss({ connectionString: url, schema, max: Math.min(inFlight + 4, 40), supervise: false, schedule: false, migrate: true })
  boss.on('error', () => {})
  await boss.start()
  const queue = 'tick'
  await boss.createQueue(queue)
  let next = 0
  const client = async () => {
    while (next < count) {
      const n = next++
      await boss.send(queue, { n })
      // Another client may have taken this one's job: fetch whichever is there, until one is.
      for (;;) {
        const [job] = await boss.fetch(queue)
        if (job) {
          await boss.complete(queue, job.id)
          break
        }
      }
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: inFlight }, client))
  const rate = perSecond(count, performance.now() - started)
  await boss.stop({ graceful: false, wait: true })
  await dropSchemas(schema)
  return rate
}

/** graphile-worker 0.16: add a job, wait until its task ran, `inFlight` clients at a time (a worker with that concurrency). */
async function graphileWorker(count: number, inFlight: number): Promise<number> {
  const schema = `bench_graphile_${Date.now().toString(36)}`
  const logger = new Logger(() => () => {})
  const waiting = new Map<number, () => void>()
  const utils = await makeWorkerUtils({ connectionString: url, schema, logger })
  await utils.migrate()
  const runner = await run({ connectionString: url, schema, logger, concurrency: inFlight, noHandleSignals: true, pollInterval: 1_000, maxPoolSize: Math.min(inFlight + 4, 40), taskList: { tick: async (payload) => waiting.get((payload as { n: number }).n)?.() } })
  let next = 0
  const client = async () => {
    while (next < count) {
      const n = next++
      const ran = new Promise<void>((resolve) => waiting.set(n, resolve))
      await utils.addJob('tick', { n })
      await ran
      waiting.delete(n)
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: inFlight }, client))
  const rate = perSecond(count, performance.now() - started)
  await runner.stop()
  await utils.release()
  await dropSchemas(schema)
  return rate
}

export const postgresScenarios: Scenario = async ({ quick, rounds: n }) => {
  const results: ScenarioResult[] = []
  for (const inFlight of [1, 10, 100]) {
    const count = (quick ? 1 : 2) * (inFlight === 1 ? 500 : inFlight === 10 ? 2_000 : 5_000)
    const name = `postgres: send -> handle, ${inFlight} in flight`
    results.push({ name, unit: 'msg/s', rounds: await rounds(n, () => mailroom(count, inFlight)) })
    const overQueues = `postgres transport: send -> handle, ${inFlight} in flight`
    results.push({ name: overQueues, unit: 'msg/s', rounds: await rounds(n, () => mailroom(count, inFlight, 'postgres')) })
    results.push({ name: `peer: pg-boss 10 send -> fetch -> complete, ${inFlight} in flight`, unit: 'msg/s', rounds: await rounds(n, () => pgBoss(count, inFlight)), peerOf: overQueues, target: 'ahead (Mailroom ÷ this > 1)' })
    results.push({ name: `peer: graphile-worker 0.16 add -> task ran, ${inFlight} in flight`, unit: 'msg/s', rounds: await rounds(n, () => graphileWorker(count, inFlight)), peerOf: overQueues, target: 'ahead (Mailroom ÷ this > 1)' })
    // The sender in a bus of its own (as the web process is): every message claimed after its NOTIFY.
    results.push({ name: `postgres transport, sender apart: send -> handle, ${inFlight} in flight`, unit: 'msg/s', rounds: await rounds(n, () => mailroom(count, inFlight, 'postgres', true)), reference: overQueues })
    results.push({ name: `rabbitmq transport (postgres persistence): send -> handle, ${inFlight} in flight`, unit: 'msg/s', rounds: await rounds(n, () => mailroom(count, inFlight, 'rabbitmq')), reference: overQueues })
  }
  return results
}
