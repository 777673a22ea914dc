import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { relayPending } from '../../src/bus/persistence/postgres/outbox-relay.js'
import { outsideModule, sendInTransaction } from '../../src/bus/persistence/postgres/outside-send.js'
import { migrate } from '../../src/bus/persistence/postgres/schema.js'
import { dropSchemas, Pool, postgresAvailable, postgresUrl, testPrefix } from './support/postgres.js'

const available = await postgresAvailable()
const pool = new Pool({ connectionString: postgresUrl, max: 4 })
let prefix = ''
beforeEach(async () => {
  if (!available) return
  prefix = testPrefix('outside')
  await migrate(pool, { prefix, modules: [outsideModule] })
  // The user's own table, as a web route's business data.
  await pool.query(`CREATE TABLE "${prefix}".carts (id text PRIMARY KEY)`)
})
afterEach(async () => {
  if (available) await dropSchemas(pool, prefix)
})
afterAll(async () => {
  await pool.end()
})

const placeOrder = (id: string) => ({ envelope: { id, type: 'PlaceOrder', headers: {}, body: { orderId: id } }, destinations: ['sales'] })

/** What the relay would hand to the transport now. */
async function leaving(): Promise<string[]> {
  const sent: string[] = []
  await relayPending(pool, prefix, outsideModule, async (messages) => void sent.push(...messages.map((message) => message.envelope.id)))
  return sent
}

describe.skipIf(!available)("sending inside the caller's own transaction, on PostgreSQL", () => {
  it("lets the message leave only when the caller's transaction commits, with the caller's own writes", async () => {
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      await client.query(`INSERT INTO "${prefix}".carts (id) VALUES ('cart-1')`)
      await sendInTransaction(client, prefix, [placeOrder('o-1')])
      // Not yet committed: nothing to relay.
      expect(await leaving()).toEqual([])
      await client.query('COMMIT')
    } finally {
      client.release()
    }
    expect(await leaving()).toEqual(['o-1'])
  })

  it("sends nothing when the caller's transaction rolls back", async () => {
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      await client.query(`INSERT INTO "${prefix}".carts (id) VALUES ('cart-2')`)
      await sendInTransaction(client, prefix, [placeOrder('o-2')])
      await client.query('ROLLBACK')
    } finally {
      client.release()
    }
    expect(await leaving()).toEqual([])
    expect((await pool.query(`SELECT count(*) AS n FROM "${prefix}".carts`)).rows[0].n).toBe('0')
  })
})
