import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startWorker } from '../crash/fixtures/start-worker.js'
import { createPaymentsTable, paymentsTable } from './support/payments-fixture.js'
import { dropSchemas, Pool, postgresAvailable, postgresUrl, testPrefix } from './support/postgres.js'

const worker = fileURLToPath(new URL('./support/payments-worker.ts', import.meta.url))
const available = await postgresAvailable()
const pool = new Pool({ connectionString: postgresUrl, max: 2 })
let prefix = ''
beforeEach(async () => {
  if (!available) return
  prefix = testPrefix('kill')
  await createPaymentsTable((sql) => pool.query(sql), prefix)
})
afterEach(async () => {
  if (available) await dropSchemas(pool, prefix)
})
afterAll(async () => {
  await pool.end()
})

const rows = async (sql: string) => (await pool.query(sql)).rows

describe.skipIf(!available)('when the process is killed between a handler’s SQL and its commit', () => {
  it('commits neither the SQL nor the published event; after a restart both commit, once', { timeout: 60_000 }, async () => {
    // Its connections carry the test's name, so the check below sees them and no other test's.
    const url = new URL(postgresUrl)
    url.searchParams.set('application_name', prefix)
    const first = startWorker(worker, [url.href, prefix, 'kill-after-sql'])
    expect((await first.exited).split('|')[0]).toBe('SIGKILL')
    // The server rolled the dead connection's transaction back: no payment, no inbox mark, no OrderCharged.
    await expect.poll(async () => (await pool.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1`, [prefix])).rows[0].n, { timeout: 10_000 }).toBe('0')
    expect(await rows(`SELECT * FROM ${paymentsTable(prefix)}`)).toEqual([])
    expect(await rows(`SELECT * FROM "${prefix}_billing".inbox`)).toEqual([])
    expect(await rows(`SELECT * FROM "${prefix}_billing".outbox`)).toEqual([])
    // ChargeOrder itself was committed before it was handled: it is still pending.
    expect(await rows(`SELECT envelope->>'type' AS type FROM "${prefix}__outside".outbox WHERE dispatched_at IS NULL`)).toEqual([{ type: 'ChargeOrder' }])

    const second = startWorker(worker, [url.href, prefix, 'recover'])
    const [code, stdout, stderr] = (await second.exited).split('|')
    expect(code, stderr).toBe('0')
    expect(stdout).toContain('idle')
    expect(await rows(`SELECT order_id, amount FROM ${paymentsTable(prefix)}`)).toEqual([{ order_id: 'o-kill', amount: 9 }])
    expect(await rows(`SELECT envelope->>'type' AS type FROM "${prefix}_billing".outbox`)).toEqual([{ type: 'OrderCharged' }])
    expect(await rows(`SELECT key FROM "${prefix}_shipping".documents`)).toEqual([{ key: 'o-kill' }])
    expect(await rows(`SELECT count(*) AS n FROM "${prefix}__outside".outbox WHERE dispatched_at IS NULL`)).toEqual([{ n: '0' }])
  })
})
