import { Type } from '@sinclair/typebox'
import pg from 'pg'
import PgBoss from 'pg-boss'
import { createBus, defineCommand, defineModule, handle } from '../../src/bus/index.js'
import { postgresPersistence } from '../../src/bus/postgres.js'
import { perSecond, rounds, type Scenario, type ScenarioResult } from '../harness.js'

/**
 * Mailroom on its PostgreSQL persistence beside pg-boss, on the same server in the same run (POSTGRES_URL,
 * default the local one). Each of `inFlight` clients repeats: send one message, wait until it is handled
 * (Mailroom: the handler ran and its transaction committed; pg-boss: send, fetch, complete).
 */
const url = process.env.POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test'
const Tick = defineCommand('Tick', Type.Object({ n: Type.Integer() }))

async function dropSchemas(prefix: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 1 })
  const { rows } = await pool.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE nspname = $1 OR nspname LIKE $2', [prefix, `${prefix}\\_%`])
  for (const { nspname } of rows) await pool.query(`DROP SCHEMA "${nspname}" CASCADE`)
  await pool.end()
}

/** Mailroom, embedded transport, PostgreSQL persistence: send -> handle, `inFlight` at a time. */
async function mailroom(count: number, inFlight: number): Promise<number> {
  const prefix = `bench_mailroom_${Date.now().toString(36)}`
  /** Per message (by its number): called once it is handled and committed. Set before the send. */
  const waiting = new Map<number, () => void>()
  /** The number of each message being handled, by id, until its commit is signalled. */
  const numberOf = new Map<string, number>()
  const worker = defineModule({ name: 'worker', concurrency: inFlight, handlers: [handle(Tick, async ({ n }, context) => void numberOf.set(context.messageId, n))] })
  const bus = createBus({ modules: [worker], routes: { Tick: 'worker' }, persistence: postgresPersistence({ connectionString: url, prefix, maxConnections: Math.min(inFlight + 6, 40) }) })
  bus.signals.on('message:handled', ({ id }) => {
    const n = numberOf.get(id)
    numberOf.delete(id)
    if (n !== undefined) waiting.get(n)?.()
  })
  await bus.start()
  let next = 0
  const client = async () => {
    while (next < count) {
      const n = next++
      const handled = new Promise<void>((resolve) => waiting.set(n, resolve))
      await bus.send(Tick, { n })
      await handled
      waiting.delete(n)
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: inFlight }, client))
  const rate = perSecond(count, performance.now() - started)
  await bus.stop()
  await dropSchemas(prefix)
  return rate
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

export const postgresScenarios: Scenario = async ({ quick, rounds: n }) => {
  const results: ScenarioResult[] = []
  for (const inFlight of [1, 10, 100]) {
    const count = (quick ? 1 : 2) * (inFlight === 1 ? 500 : inFlight === 10 ? 2_000 : 5_000)
    const name = `postgres: send -> handle, ${inFlight} in flight`
    results.push({ name, unit: 'msg/s', rounds: await rounds(n, () => mailroom(count, inFlight)) })
    results.push({ name: `peer: pg-boss 10 send -> fetch -> complete, ${inFlight} in flight`, unit: 'msg/s', rounds: await rounds(n, () => pgBoss(count, inFlight)), peerOf: name, target: '>= 2x (Mailroom ÷ this)' })
  }
  return results
}
