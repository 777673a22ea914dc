import { Type } from '@sinclair/typebox'
import type { PoolClient } from 'pg'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { defineTable, InvalidListOptionError } from '../../src/bus/index.js'
import { readDocuments } from '../../src/bus/persistence/postgres/documents.js'
import { TransactionTable } from '../../src/bus/persistence/postgres/transaction-table.js'
import { migrate } from '../../src/bus/persistence/postgres/schema.js'
import { dropSchemas, Pool, postgresAvailable, postgresUrl, testPrefix } from './support/postgres.js'

const available = await postgresAvailable()
const pool = new Pool({ connectionString: postgresUrl, max: 4 })
let prefix = ''
const Orders = defineTable('orders', Type.Unknown())
beforeEach(async () => {
  if (!available) return
  prefix = testPrefix('docs')
  await migrate(pool, { prefix, modules: ['sales'] })
})
afterEach(async () => {
  if (available) await dropSchemas(pool, prefix)
})
afterAll(async () => {
  await pool.end()
})

/** Commits document changes as one handled message would: staged in its transaction's table, written at the commit. */
async function write(...changes: { key: string; doc: unknown }[]): Promise<void> {
  const client: PoolClient = await pool.connect()
  try {
    await client.query('BEGIN')
    const table = new TransactionTable(async () => client, prefix, 'sales', Orders)
    for (const { key, doc } of changes) doc === undefined ? table.delete(key) : table.put(key, doc)
    await table.writeChecked(client)
    for (const statement of table.batchedWrites()) await client.query(statement)
    await client.query('COMMIT')
  } finally {
    client.release()
  }
}
const put = (key: string, doc: unknown) => ({ key, doc })

describe.skipIf(!available)("a module's table, read from PostgreSQL", () => {
  it('pages in the order keys were first put, newest first on request, with a cursor', async () => {
    for (let n = 1; n <= 5; n++) await write(put(`o-${n}`, { n }))
    const orders = readDocuments<{ n: number }>(pool, prefix, 'sales', 'orders')
    const first = await orders.list({ limit: 2 })
    expect(first.items.map((item) => item.key)).toEqual(['o-1', 'o-2'])
    const second = await orders.list({ limit: 2, cursor: first.next! })
    expect(second.items.map((item) => item.key)).toEqual(['o-3', 'o-4'])
    const last = await orders.list({ limit: 2, cursor: second.next! })
    expect(last).toEqual({ items: [{ key: 'o-5', doc: { n: 5 } }] })
    const newest = await orders.list({ order: 'newest', limit: 3 })
    expect(newest.items.map((item) => item.key)).toEqual(['o-5', 'o-4', 'o-3'])
    expect((await orders.list({ order: 'newest', limit: 3, cursor: newest.next! })).items.map((item) => item.key)).toEqual(['o-2', 'o-1'])
    expect(await orders.count()).toBe(5)
    expect(await orders.get('o-3')).toEqual({ n: 3 })
    expect(await orders.get('o-9')).toBeUndefined()
  })

  it('keeps a key in its place when its document changes, and gives it a new one when put again after a delete', async () => {
    for (const key of ['a', 'b', 'c']) await write(put(key, { v: 1 }))
    await write(put('a', { v: 2 }))
    const orders = readDocuments(pool, prefix, 'sales', 'orders')
    expect((await orders.list()).items.map((item) => item.key)).toEqual(['a', 'b', 'c'])
    await write({ key: 'b', doc: undefined })
    await write(put('b', { v: 1 }))
    expect((await orders.list()).items).toEqual([
      { key: 'a', doc: { v: 2 } },
      { key: 'c', doc: { v: 1 } },
      { key: 'b', doc: { v: 1 } },
    ])
  })

  it('refuses list options it does not take, as the journal tables do', async () => {
    const orders = readDocuments(pool, prefix, 'sales', 'orders')
    await expect(orders.list({ limit: 0 })).rejects.toThrow(InvalidListOptionError)
    await expect(orders.list({ cursor: 'yesterday' })).rejects.toThrow(InvalidListOptionError)
  })
})
