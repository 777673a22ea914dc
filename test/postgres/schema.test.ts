import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { SchemaTooNewError } from '../../src/bus/index.js'
import { migrate, moduleSchema, schemaVersion } from '../../src/bus/persistence/postgres/schema.js'
import { dropSchemas, Pool, postgresAvailable, postgresUrl, testPrefix } from './support/postgres.js'

const available = await postgresAvailable()
const pool = new Pool({ connectionString: postgresUrl, max: 10 })
const prefixes: string[] = []
afterEach(async () => {
  if (available) for (const prefix of prefixes.splice(0)) await dropSchemas(pool, prefix)
})
afterAll(async () => {
  await pool.end()
})

const tablesOf = async (schema: string) =>
  (await pool.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name', [schema])).rows.map((row) => row.table_name)

describe.skipIf(!available)('the PostgreSQL schema', () => {
  it("creates each module's schema with its inbox, outbox, sagas and documents, and records its version", async () => {
    const prefix = testPrefix('create')
    prefixes.push(prefix)
    expect(await migrate(pool, { prefix, modules: ['billing', 'order-history'] })).toEqual({ billing: 0, 'order-history': 0 })
    for (const module of ['billing', 'order-history']) expect(await tablesOf(moduleSchema(prefix, module))).toEqual(['audit', 'documents', 'inbox', 'outbox', 'sagas', 'waiting'])
    const versions = (await pool.query(`SELECT module, version FROM "${prefix}".schema_versions ORDER BY module`)).rows
    expect(versions).toEqual([
      { module: 'billing', version: schemaVersion },
      { module: 'order-history', version: schemaVersion },
    ])
  })

  it('is idempotent: a second start finds it done and changes nothing', async () => {
    const prefix = testPrefix('again')
    prefixes.push(prefix)
    await migrate(pool, { prefix, modules: ['billing'] })
    await pool.query(`INSERT INTO "${moduleSchema(prefix, 'billing')}".inbox (message_id) VALUES ('m-1')`)
    expect(await migrate(pool, { prefix, modules: ['billing'] })).toEqual({ billing: schemaVersion })
    expect((await pool.query(`SELECT message_id FROM "${moduleSchema(prefix, 'billing')}".inbox`)).rows).toEqual([{ message_id: 'm-1' }])
  })

  it('lets eight instances start at once: one creates, the others wait for it and find it done', async () => {
    const prefix = testPrefix('race')
    prefixes.push(prefix)
    const results = await Promise.all(Array.from({ length: 8 }, () => migrate(pool, { prefix, modules: ['billing', 'shipping'] })))
    // Exactly one of them found nothing there.
    expect(results.filter((before) => before.billing === 0)).toHaveLength(1)
    expect(await tablesOf(moduleSchema(prefix, 'shipping'))).toEqual(['audit', 'documents', 'inbox', 'outbox', 'sagas', 'waiting'])
  })

  it('refuses a schema newer than it knows, naming the module, and changes nothing', async () => {
    const prefix = testPrefix('newer')
    prefixes.push(prefix)
    await migrate(pool, { prefix, modules: ['billing'] })
    await pool.query(`UPDATE "${prefix}".schema_versions SET version = $1 WHERE module = 'billing'`, [schemaVersion + 1])
    const failure = await migrate(pool, { prefix, modules: ['billing'] }).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(SchemaTooNewError)
    expect(failure).toMatchObject({ code: 'MAILROOM_ERR_PERSISTENCE_SCHEMA_TOO_NEW', module: 'billing' })
  })
})
