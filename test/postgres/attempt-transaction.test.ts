import { Type } from '@sinclair/typebox'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DataConflictError, defineTable, type Persistence } from '../../src/bus/index.js'
import type { DeliveryState } from '../../src/bus/delivery/delivery.js'
import { newDelivery } from '../../src/bus/persistence/postgres/outbox-rows.js'
import type { PoolClient } from 'pg'
import { AlreadyHandledError } from '../../src/bus/persistence/persistence.js'
import { postgresPersistence } from '../../src/bus/postgres.js'
import { systemClock } from '../../src/bus/clock.js'
import { dropSchemas, Pool, postgresAvailable, postgresUrl, testPrefix } from './support/postgres.js'

const available = await postgresAvailable()
const pool = new Pool({ connectionString: postgresUrl, max: 4 })
const Charges = defineTable('charges', Type.Object({ orderId: Type.String(), times: Type.Integer() }))
let prefix = ''
let schema = ''
const instances: Persistence[] = []

/** One instance of module `billing` (as one process would have), on the test's schemas. */
async function instance(): Promise<Persistence> {
  const persistence = postgresPersistence({ connectionString: postgresUrl, prefix, maxConnections: 4 })({
    modules: ['billing'],
    allModules: ['billing', 'shipping'],
    tables: new Map([['billing', [Charges]]]),
    audit: false,
    concurrency: 4,
    clock: systemClock,
    reachesOtherProcesses: true,
    onError: () => {},
    relay: () => {},
  })
  instances.push(persistence)
  await persistence.open()
  return persistence
}

const envelope = (id: string) => ({ id, type: 'OrderPlaced', headers: { 'mailroom.message-id': id, 'mailroom.conversation-id': id }, body: { orderId: 'o-1' } })
const delivery = (id: string): DeliveryState => newDelivery(id, 'billing', envelope(id), undefined, Date.now())
const billed = (id: string) => ({ to: ['shipping'], env: { ...envelope(`${id}-billed`), type: 'OrderBilled' } })

/** What one attempt does, as the pipeline runs it: a charge counted up, a payment by SQL, an event. */
async function handle(persistence: Persistence, id: string, amount = 42, between?: () => Promise<void>): Promise<'committed' | 'duplicate'> {
  for (;;) {
    try {
      return await attempt(persistence, id, amount, between)
    } catch (error) {
      // As the pipeline does: a document another attempt put first means running again with its data.
      if (!(error instanceof DataConflictError)) throw error
    }
  }
}

async function attempt(persistence: Persistence, id: string, amount: number, between?: () => Promise<void>): Promise<'committed' | 'duplicate'> {
  let transaction
  try {
    // A broker's message (no source here): the inbox mark comes first.
    transaction = await persistence.transactions!.begin('billing', delivery(id))
  } catch (error) {
    if (error instanceof AlreadyHandledError) return 'duplicate'
    throw error
  }
  try {
    const charges = transaction.table<{ orderId: string; times: number }>(Charges)
    const before = await charges.get('o-1')
    await between?.()
    charges.put('o-1', { orderId: 'o-1', times: (before?.times ?? 0) + 1 })
    await ((await transaction.session()) as PoolClient).query(`INSERT INTO ${schema}.payments (message_id, amount) VALUES ($1, $2)`, [id, amount])
    await transaction.commit([billed(id)], [], undefined)
    return 'committed'
  } catch (error) {
    await transaction.rollback()
    throw error
  }
}

async function contents() {
  const count = async (table: string) => Number((await pool.query(`SELECT count(*) AS n FROM ${schema}.${table}`)).rows[0].n)
  return { inbox: await count('inbox'), outbox: await count('outbox'), documents: await count('documents'), payments: await count('payments') }
}

beforeEach(async () => {
  if (!available) return
  prefix = testPrefix('attempt')
  schema = `"${prefix}_billing"`
  await instance()
  // A table of the application's own, written by the handler's own SQL.
  await pool.query(`CREATE TABLE ${schema}.payments (message_id text PRIMARY KEY, amount integer NOT NULL CHECK (amount > 0))`)
})
afterEach(async () => {
  for (const persistence of instances.splice(0)) await persistence.close()
  if (available) await dropSchemas(pool, prefix)
})
afterAll(async () => {
  await pool.end()
})

describe.skipIf(!available)('one transaction per attempt, on PostgreSQL', () => {
  it("commits the inbox mark, the handler's own SQL, its document and its outgoing message together", async () => {
    expect(await handle(instances[0]!, 'm-1')).toBe('committed')
    expect(await contents()).toEqual({ inbox: 1, outbox: 1, documents: 1, payments: 1 })
    const [row] = (await pool.query(`SELECT envelope, destinations, dispatched_at FROM ${schema}.outbox`)).rows
    expect(row).toMatchObject({ envelope: billed('m-1').env, destinations: ['shipping'], dispatched_at: null })
  })

  it('changes nothing for a message already handled, by this instance or another', async () => {
    const other = await instance()
    await handle(instances[0]!, 'm-1')
    expect(await handle(instances[0]!, 'm-1')).toBe('duplicate')
    expect(await handle(other, 'm-1')).toBe('duplicate')
    expect(await contents()).toEqual({ inbox: 1, outbox: 1, documents: 1, payments: 1 })
  })

  it('lets exactly one of two instances handling the same message at once commit it: the other waits at the inbox, then runs nothing', async () => {
    const other = await instance()
    const outcomes = await Promise.all([handle(instances[0]!, 'm-1'), handle(other, 'm-1')])
    expect(outcomes.sort()).toEqual(['committed', 'duplicate'])
    expect(await contents()).toEqual({ inbox: 1, outbox: 1, documents: 1, payments: 1 })
  })

  it('loses no update when two instances change one document at once: the second reads after the first commits', async () => {
    const other = await instance()
    /** Two attempts on o-1 at once: the first holds its read until the second has begun and asked for the same row. */
    async function together(first: string, second: string) {
      let firstRead!: () => void
      const read = new Promise<void>((resolve) => (firstRead = resolve))
      const one = handle(instances[0]!, first, 42, async () => {
        firstRead()
        await new Promise((resolve) => setTimeout(resolve, 200))
      })
      await read
      return Promise.all([one, handle(other, second)])
    }
    // o-1 absent: both read nothing; the second's insert meets the first's and it runs again.
    expect(await together('m-1', 'm-2')).toEqual(['committed', 'committed'])
    expect((await pool.query(`SELECT doc FROM ${schema}.documents`)).rows).toEqual([{ doc: { orderId: 'o-1', times: 2 } }])
    // o-1 there: the second's read waits on the first's row lock.
    expect(await together('m-3', 'm-4')).toEqual(['committed', 'committed'])
    expect((await pool.query(`SELECT doc FROM ${schema}.documents`)).rows).toEqual([{ doc: { orderId: 'o-1', times: 4 } }])
  })

  it("rolls everything back when the handler's own SQL violates a constraint, and names the SQL error", async () => {
    const error = await handle(instances[0]!, 'm-2', -5).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: '23514' })
    expect(String((error as Error).message)).toContain('payments_amount_check')
    // Not even the inbox mark: the message is tried again, or goes to the error queue with that error.
    expect(await contents()).toEqual({ inbox: 0, outbox: 0, documents: 0, payments: 0 })
  })

  it("leaves nothing when the connection dies between the handler's SQL and the commit", async () => {
    const dying = handle(instances[0]!, 'm-3', 7, async () => {})
    await dying
    const transaction = await instances[0]!.transactions!.begin('billing', delivery('m-4'))
    const client = (await transaction.session()) as PoolClient
    const { pid } = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!
    await client.query(`INSERT INTO ${schema}.payments (message_id, amount) VALUES ('m-4', 7)`)
    // As a process killed mid-message: the server sees the connection drop and rolls the transaction back.
    client.on('error', () => {})
    ;(client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy()
    await expect(transaction!.commit([billed('m-4')], [], undefined)).rejects.toMatchObject({ code: 'MAILROOM_ERR_PERSISTENCE_UNAVAILABLE' })
    await transaction!.rollback()
    // The server noticed the dead connection and rolled its transaction back (its backend is gone).
    await expect.poll(async () => (await pool.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE pid = $1`, [pid])).rows[0].n).toBe('0')
    expect(await contents()).toEqual({ inbox: 1, outbox: 1, documents: 1, payments: 1 })
    expect((await pool.query(`SELECT message_id FROM ${schema}.payments`)).rows).toEqual([{ message_id: 'm-3' }])
  })
})
