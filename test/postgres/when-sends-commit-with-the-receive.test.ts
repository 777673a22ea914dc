import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { postgresTransport } from '../../src/bus/postgres.js'
import { startWorker } from '../crash/fixtures/start-worker.js'
import { ChargeOrder, createPaymentsBus, createPaymentsTable, paymentsTable, Shipments } from './support/payments-fixture.js'
import { dropSchemas, Pool, postgresAvailable, postgresUrl, testPrefix } from './support/postgres.js'

const worker = fileURLToPath(new URL('./support/kill-after-commit-worker.ts', import.meta.url))
const available = await postgresAvailable()
const pool = new Pool({ connectionString: postgresUrl, max: 2 })
const prefix = testPrefix('direct')
const handedPrefix = testPrefix('handed')
afterAll(async () => {
  if (available) for (const each of [prefix, handedPrefix]) await dropSchemas(pool, each)
  await pool.end()
})

const rows = async (sql: string) => (await pool.query(sql)).rows

describe.skipIf(!available)('with the PostgreSQL persistence and transport in one database', () => {
  it('a handler’s sends and the end of its message commit in its own transaction: killed right after, nothing waits for a relay or a lease', { timeout: 60_000 }, async () => {
    await createPaymentsTable((sql) => pool.query(sql), prefix)
    // Shipping here; Billing in a process that dies the moment its handler's transaction has committed. Were
    // OrderCharged in Billing's outbox, it would wait there for another instance to take it over (30 s); were
    // ChargeOrder's row left in its queue, it would come back when its lease ran out (60 s).
    const shipping = createPaymentsBus({ url: postgresUrl, prefix, runHere: ['shipping'], transport: postgresTransport({ connectionString: postgresUrl, prefix, pollEveryMs: 100 }) })
    await shipping.start()
    const billing = startWorker(worker, [postgresUrl, prefix, 'after-billing'])
    try {
      await billing.ready
      await shipping.send(ChargeOrder, { orderId: 'o-1', amount: 5 })
      expect((await billing.exited).split('|')[0]).toBe('SIGKILL')

      await expect.poll(() => shipping.table(Shipments).get('o-1'), { timeout: 10_000 }).toEqual({ orderId: 'o-1' })
      expect(await rows(`SELECT order_id, amount FROM ${paymentsTable(prefix)}`)).toEqual([{ order_id: 'o-1', amount: 5 }])
      // Nothing went through an outbox to be relayed, and no row is left in any queue.
      expect(await rows(`SELECT envelope->>'type' AS type FROM "${prefix}_billing".outbox`)).toEqual([])
      expect(await rows(`SELECT queue, envelope->>'type' AS type FROM "${prefix}_queues".messages`)).toEqual([])
      // The send from outside kept a row in its outbox, born dispatched: it only tells a lost answer that it committed.
      expect(await rows(`SELECT envelope->>'type' AS type, dispatched_at IS NOT NULL AS dispatched FROM "${prefix}__outside".outbox`)).toEqual([{ type: 'ChargeOrder', dispatched: true }])
    } finally {
      billing.child.kill('SIGKILL')
      await shipping.stop()
    }
  })

  it('a message handed to a consumer in the process that wrote it comes back to another instance after its lease if that process dies in the handler', { timeout: 60_000 }, async () => {
    await createPaymentsTable((sql) => pool.query(sql), handedPrefix)
    // The worker runs Billing and Shipping: Billing's commit writes OrderCharged already claimed for the
    // worker's own Shipping, which dies in its handler. This bus runs Shipping too, and takes it over.
    const worker2 = startWorker(worker, [postgresUrl, handedPrefix, 'in-shipping'])
    await worker2.ready
    const here = createPaymentsBus({ url: postgresUrl, prefix: handedPrefix, runHere: ['shipping'], transport: postgresTransport({ connectionString: postgresUrl, prefix: handedPrefix, pollEveryMs: 100 }) })
    await here.start()
    try {
      await here.send(ChargeOrder, { orderId: 'o-2', amount: 7 })
      expect((await worker2.exited).split('|')[0]).toBe('SIGKILL')
      await expect.poll(() => here.table(Shipments).get('o-2'), { timeout: 15_000 }).toEqual({ orderId: 'o-2' })
      expect(await rows(`SELECT order_id, amount FROM ${paymentsTable(handedPrefix)}`)).toEqual([{ order_id: 'o-2', amount: 7 }])
      // Claimed twice (by the dead process's Shipping, then by this one), and gone once shipped.
      await expect.poll(async () => rows(`SELECT 1 FROM "${handedPrefix}_queues".messages`), { timeout: 5_000 }).toEqual([])
    } finally {
      worker2.child.kill('SIGKILL')
      await here.stop()
    }
  })
})
