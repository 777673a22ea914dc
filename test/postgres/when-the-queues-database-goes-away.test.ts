import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort, startApp } from '../../scripts/chaos/app-process.js'
import { createTcpProxy } from '../../scripts/chaos/tcp-proxy.js'
import { dropSchemas, Pool, postgresAvailable, postgresUrl, testPrefix } from './support/postgres.js'

const available = await postgresAvailable()
const prefix = testPrefix('away')
const root = mkdtempSync(join(tmpdir(), 'mailroom-away-'))
afterAll(async () => {
  rmSync(root, { recursive: true, force: true })
  if (!available) return
  const pool = new Pool({ connectionString: postgresUrl, max: 1 })
  await dropSchemas(pool, prefix)
  await pool.end()
})

describe.skipIf(!available)('when the database of the queues goes away under a process of modules (MAILROOM_TRANSPORT=postgres)', () => {
  it('keeps running, and takes its messages again once the database is back', { timeout: 60_000 }, async () => {
    const target = new URL(postgresUrl)
    const proxy = await createTcpProxy(await freePort(), { host: target.hostname, port: Number(target.port || 5432) })
    await proxy.up()
    const through = new URL(postgresUrl)
    through.hostname = '127.0.0.1'
    through.port = String(proxy.port)
    // A process with no web server: only its connections to the database and the bus's own timers keep it alive.
    const shipping = await startApp({ port: 0, dataDir: join(root, 'shipping'), env: { MAILROOM_TRANSPORT: 'postgres', MAILROOM_POSTGRES_URL: through.href, MAILROOM_POSTGRES_PREFIX: prefix }, args: ['--modules', 'shipping'] })
    try {
      // Every connection dropped and new ones refused for 2 s, as a restart of the server looks from here.
      await proxy.down()
      await new Promise((resolve) => setTimeout(resolve, 2_000))
      await proxy.up()
      await new Promise((resolve) => setTimeout(resolve, 3_000))
      expect(shipping.alive(), shipping.output().slice(-2_000)).toBe(true)
      // Taking messages again: its report reaches the table the console reads.
      const pool = new Pool({ connectionString: postgresUrl, max: 1 })
      try {
        const fresh = async () => Number((await pool.query(`SELECT count(*) AS n FROM "${prefix}_queues".reports WHERE at > now() - interval '2 seconds'`)).rows[0].n)
        await expect.poll(fresh, { timeout: 10_000 }).toBeGreaterThan(0)
      } finally {
        await pool.end()
      }
    } finally {
      await shipping.kill()
      await proxy.close()
    }
  })
})
