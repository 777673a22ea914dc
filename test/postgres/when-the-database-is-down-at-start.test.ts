import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { freePort } from '../../scripts/chaos/app-process.js'
import { createTcpProxy, type TcpProxy } from '../../scripts/chaos/tcp-proxy.js'
import { dropSchemas, Pool, postgresAvailable, postgresUrl, testPrefix } from './support/postgres.js'

const main = fileURLToPath(new URL('../../src/main.ts', import.meta.url))
const available = await postgresAvailable()
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Waits until `check` holds, at most `ms`. */
async function until(check: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  for (let waited = 0; !(await check()); waited += 50) {
    if (waited >= ms) throw new Error('the condition never held')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe.skipIf(!available)('npm start on PostgreSQL, when the database does not answer at start', () => {
  it('says so in one line, tries again without exiting, and starts once the database answers', { timeout: 60_000 }, async () => {
    const target = new URL(postgresUrl)
    const proxy: TcpProxy = await createTcpProxy(await freePort(), { host: target.hostname, port: Number(target.port || 5432) })
    cleanups.push(() => proxy.close())
    const prefix = testPrefix('down')
    const pool = new Pool({ connectionString: postgresUrl, max: 1 })
    cleanups.push(async () => {
      await dropSchemas(pool, prefix)
      await pool.end()
    })
    const dataDir = mkdtempSync(join(tmpdir(), 'mailroom-pg-down-'))
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }))
    const url = new URL(postgresUrl)
    url.port = String(proxy.port)
    url.hostname = '127.0.0.1'
    const port = await freePort()
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', main], {
      env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), MAILROOM_DATA_DIR: dataDir, MAILROOM_POSTGRES_URL: url.href, MAILROOM_POSTGRES_PREFIX: prefix, MAILROOM_POSTGRES_RETRY_MS: '200', MAILROOM_BUYERS_REMORSE_MS: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    let exited = false
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('exit', () => (exited = true))
    cleanups.push(async () => {
      if (exited) return
      child.kill('SIGTERM')
      await new Promise((resolve) => child.once('exit', resolve))
    })

    // Down: one line naming the server and the fix; after ten more tries (2 s), still that one line, still running.
    await until(() => stderr.includes('\n'), 20_000)
    await new Promise((resolve) => setTimeout(resolve, 2_000))
    expect(stderr.trim().split('\n')).toHaveLength(1)
    expect(stderr).toMatch(new RegExp(`Cannot reach PostgreSQL at postgres://127\\.0\\.0\\.1:${proxy.port}/test .*MAILROOM_POSTGRES_URL`))
    expect(stderr).not.toMatch(/^\s+at /m)
    expect(exited).toBe(false)
    expect(stdout).not.toContain('Mailroom is running')

    // Up: it starts by itself, and takes orders.
    await proxy.up()
    await until(() => stdout.includes('Mailroom is running'), 20_000)
    const placed = await fetch(`http://127.0.0.1:${port}/api/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(placed.status).toBe(202)
    const { orderId } = (await placed.json()) as { orderId: string }
    await until(async () => ((await (await fetch(`http://127.0.0.1:${port}/api/orders/${orderId}`)).json()) as { shipping?: { shipped?: boolean } }).shipping?.shipped === true, 20_000)
    expect(stderr.trim().split('\n')).toHaveLength(1)
  })
})
