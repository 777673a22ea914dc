import { Type } from '@sinclair/typebox'
import { Kysely, PostgresDialect, sql } from 'kysely'
import type { PoolClient } from 'pg'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createBus, defineCommand, defineEvent, defineModule, handle, type Bus, type HandlerContext } from '../../src/bus/index.js'
import { postgresPersistence, transactionClient } from '../../src/bus/postgres.js'
import { dropSchemas, Pool, postgresAvailable, postgresUrl, testPrefix } from './support/postgres.js'

/** The application's own tables, as Kysely knows them. */
interface Database {
  payments: { order_id: string; amount: number }
}

/**
 * Kysely on the handler's transaction: a one-connection "pool" whose connection is the transaction's
 * client, never released by Kysely (the bus commits or rolls back, and releases it).
 */
function kyselyOf(context: HandlerContext, schema: string): Kysely<Database> {
  const connect = async () => {
    const client: PoolClient = await transactionClient(context)
    return { query: client.query.bind(client) as never, release() {} }
  }
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: { connect, end: async () => {} } }) }).withSchema(schema)
}

const PayOrder = defineCommand('PayOrder', Type.Object({ orderId: Type.String(), amount: Type.Integer() }))
const OrderPaid = defineEvent('OrderPaid', Type.Object({ orderId: Type.String(), total: Type.Integer() }))

const available = await postgresAvailable()
const pool = new Pool({ connectionString: postgresUrl, max: 2 })
let prefix = ''
let bus: Bus | undefined
const paid: { orderId: string; total: number }[] = []
beforeEach(async () => {
  if (!available) return
  prefix = testPrefix('kysely')
  await pool.query(`CREATE SCHEMA "${prefix}_app"`)
  await pool.query(`CREATE TABLE "${prefix}_app".payments (order_id text NOT NULL, amount integer NOT NULL CHECK (amount > 0))`)
  const schema = `${prefix}_app`
  const billing = defineModule({
    name: 'billing',
    // One at a time: the second payment's sum includes the first.
    concurrency: 1,
    recoverability: { immediateRetries: 0, delayedRetries: { count: 0 } },
    handlers: [
      handle(PayOrder, async ({ orderId, amount }, context) => {
        const db = kyselyOf(context, schema)
        await db.insertInto('payments').values({ order_id: orderId, amount }).execute()
        // Reads its own uncommitted write: the same transaction.
        const { total } = await db.selectFrom('payments').select(sql<number>`sum(amount)::int`.as('total')).where('order_id', '=', orderId).executeTakeFirstOrThrow()
        await context.publish(OrderPaid, { orderId, total })
      }),
    ],
  })
  const receipts = defineModule({ name: 'receipts', handlers: [handle(OrderPaid, async (body) => void paid.push(body))] })
  bus = createBus({ modules: [billing, receipts], routes: { PayOrder: 'billing' }, persistence: postgresPersistence({ connectionString: postgresUrl, prefix }) })
  await bus.start()
})
afterEach(async () => {
  await bus?.stop()
  bus = undefined
  paid.length = 0
  if (available) await dropSchemas(pool, prefix)
})
afterAll(async () => {
  await pool.end()
})

describe.skipIf(!available)('Kysely in a handler, on the handler’s transaction', () => {
  it('writes and reads in the transaction, committed with the published event', async () => {
    await bus!.send(PayOrder, { orderId: 'o-1', amount: 30 })
    await bus!.send(PayOrder, { orderId: 'o-1', amount: 12 })
    await bus!.idle()
    expect(paid.sort((a, b) => a.total - b.total)).toEqual([
      { orderId: 'o-1', total: 30 },
      { orderId: 'o-1', total: 42 },
    ])
    expect((await pool.query(`SELECT sum(amount)::int AS total FROM "${prefix}_app".payments`)).rows).toEqual([{ total: 42 }])
  })

  it('commits neither its write nor the event when a constraint fails: the error queue names it', async () => {
    await bus!.send(PayOrder, { orderId: 'o-2', amount: -1 })
    await bus!.idle()
    expect(bus!.admin.failedMessages()[0]?.failures[0]?.message).toMatch(/violates check constraint "payments_amount_check"/)
    expect(paid.sort((a, b) => a.total - b.total)).toEqual([])
    expect((await pool.query(`SELECT count(*)::int AS n FROM "${prefix}_app".payments`)).rows).toEqual([{ n: 0 }])
  })
})
