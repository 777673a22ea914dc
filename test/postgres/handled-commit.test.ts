import type { PoolClient } from 'pg'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DataConflictError } from '../../src/bus/index.js'
import { commitHandled, type HandledCommit } from '../../src/bus/persistence/postgres/handled-commit.js'
import { migrate, moduleSchema } from '../../src/bus/persistence/postgres/schema.js'
import { dropSchemas, Pool, postgresAvailable, postgresUrl, testPrefix } from './support/postgres.js'

const available = await postgresAvailable()
const pool = new Pool({ connectionString: postgresUrl, max: 6 })
let prefix = ''
let schema = ''
beforeEach(async () => {
  if (!available) return
  prefix = testPrefix('commit')
  schema = `"${moduleSchema(prefix, 'billing')}"`
  await migrate(pool, { prefix, modules: ['billing'] })
  // A table of the module's own, as a user's handler would write to with its own SQL.
  await pool.query(`CREATE TABLE ${schema}.payments (order_id text PRIMARY KEY, amount integer NOT NULL CHECK (amount > 0))`)
})
afterEach(async () => {
  if (available) await dropSchemas(pool, prefix)
})
afterAll(async () => {
  await pool.end()
})

const envelope = (id: string) => ({ id, type: 'OrderBilled', headers: { 'mailroom.message-id': id }, body: { orderId: 'o-1' } })
const handled = (messageId: string, more: Partial<HandledCommit> = {}): HandledCommit => ({
  module: 'billing',
  messageId,
  outgoing: [{ envelope: envelope(`${messageId}-billed`), destinations: ['shipping'] }],
  sagas: [],
  documents: [{ table: 'charges', key: 'o-1', value: { orderId: 'o-1', chargeId: 'ch-1' }, readVersion: undefined }],
  inTransaction: async (client) => void (await client.query(`INSERT INTO ${schema}.payments (order_id, amount) VALUES ('o-1', 42)`)),
  ...more,
})

/** What the module's schema holds: rows per table. */
async function contents() {
  const count = async (table: string) => Number((await pool.query(`SELECT count(*) AS n FROM ${schema}.${table}`)).rows[0].n)
  return { inbox: await count('inbox'), outbox: await count('outbox'), documents: await count('documents'), payments: await count('payments') }
}

async function withClient<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  try {
    return await work(client)
  } finally {
    client.release(true)
  }
}

describe.skipIf(!available)('one transaction per handled message, on PostgreSQL', () => {
  it("commits the inbox mark, the handler's own SQL, its documents and its outgoing messages together", async () => {
    expect(await withClient((client) => commitHandled(client, prefix, handled('m-1')))).toBe('committed')
    expect(await contents()).toEqual({ inbox: 1, outbox: 1, documents: 1, payments: 1 })
    const [row] = (await pool.query(`SELECT envelope, destinations, dispatched_at FROM ${schema}.outbox`)).rows
    expect(row).toMatchObject({ envelope: envelope('m-1-billed'), destinations: ['shipping'], dispatched_at: null })
  })

  it('changes nothing for a message already handled, by this instance or another', async () => {
    await withClient((client) => commitHandled(client, prefix, handled('m-1')))
    expect(await withClient((client) => commitHandled(client, prefix, handled('m-1', { inTransaction: async () => {} })))).toBe('duplicate')
    expect(await contents()).toEqual({ inbox: 1, outbox: 1, documents: 1, payments: 1 })
  })

  it('lets exactly one of two instances handling the same message at once commit it', async () => {
    // Both run the same handler (its own SQL included), as two instances would; whichever marks the inbox second waits for the first's commit and changes nothing.
    const outcomes = await Promise.all([withClient((client) => commitHandled(client, prefix, handled('m-1'))), withClient((client) => commitHandled(client, prefix, handled('m-1')))])
    expect(outcomes.sort()).toEqual(['committed', 'duplicate'])
    expect(await contents()).toEqual({ inbox: 1, outbox: 1, documents: 1, payments: 1 })
  })

  it("rolls everything back when the handler's own SQL violates a constraint, and names the SQL error", async () => {
    const failing = handled('m-2', { inTransaction: async (client) => void (await client.query(`INSERT INTO ${schema}.payments (order_id, amount) VALUES ('o-2', -5)`)) })
    const error = await withClient((client) => commitHandled(client, prefix, failing)).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: '23514' })
    expect(String((error as Error).message)).toContain('payments_amount_check')
    // Not even the inbox mark: the message is tried again, or goes to the error queue with that error.
    expect(await contents()).toEqual({ inbox: 0, outbox: 0, documents: 0, payments: 0 })
  })

  it('refuses a document changed by another instance since it was read, and commits none of the rest', async () => {
    await withClient((client) => commitHandled(client, prefix, handled('m-1')))
    const stale = handled('m-2', { inTransaction: undefined, documents: [{ table: 'charges', key: 'o-1', value: { orderId: 'o-1', chargeId: 'ch-2' }, readVersion: undefined }] })
    const error = await withClient((client) => commitHandled(client, prefix, stale)).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(DataConflictError)
    expect(await contents()).toEqual({ inbox: 1, outbox: 1, documents: 1, payments: 1 })
    // Read at the version it is at, it commits and moves the version on.
    const fresh = handled('m-2', { inTransaction: undefined, documents: [{ table: 'charges', key: 'o-1', value: { orderId: 'o-1', chargeId: 'ch-2' }, readVersion: 1 }] })
    expect(await withClient((client) => commitHandled(client, prefix, fresh))).toBe('committed')
    expect((await pool.query(`SELECT doc, version FROM ${schema}.documents`)).rows).toEqual([{ doc: { orderId: 'o-1', chargeId: 'ch-2' }, version: '2' }])
  })

  it("leaves nothing when the connection dies between the handler's SQL and the commit", async () => {
    const dying = handled('m-3', {
      inTransaction: async (client) => {
        await client.query(`INSERT INTO ${schema}.payments (order_id, amount) VALUES ('o-3', 7)`)
        // As a process killed mid-message: the server sees the connection drop and rolls the transaction back.
        client.on('error', () => {})
        ;(client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy()
      },
    })
    await expect(withClient((client) => commitHandled(client, prefix, dying))).rejects.toThrow()
    await expect.poll(async () => (await pool.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE state = 'idle in transaction'`)).rows[0].n).toBe('0')
    expect(await contents()).toEqual({ inbox: 0, outbox: 0, documents: 0, payments: 0 })
  })
})
