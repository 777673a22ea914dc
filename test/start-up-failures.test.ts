import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { freePort, startApp, type AppProcess } from '../scripts/chaos/app-process.js'

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url))
const dirs: string[] = []
const apps: AppProcess[] = []
afterEach(async () => {
  for (const app of apps.splice(0)) await app.stop()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-start-'))
  dirs.push(dir)
  return dir
}

/** `npm start` as a person runs it: its exit code and what it printed to standard error. */
function start(env: Record<string, string>, args: string[] = []): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], { env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('exit', (code) => resolve({ code, stderr }))
  })
}

/** One line naming the cause, no stack trace. */
function expectOneClearLine(stderr: string, cause: RegExp): void {
  const lines = stderr.trim().split('\n')
  expect(lines.at(-1)).toMatch(cause)
  expect(stderr).not.toMatch(/^\s+at /m)
}

describe('npm start, when it cannot start', () => {
  it('says in one line that the data directory is in use by another process, and exits non-zero', { timeout: 30_000 }, async () => {
    const dataDir = tempDir()
    apps.push(await startApp({ port: await freePort(), dataDir }))
    const second = await start({ MAILROOM_DATA_DIR: dataDir })
    expect(second.code).toBe(2)
    expectOneClearLine(second.stderr, /data directory .* is in use|lock/i)
  })

  it('names the damaged journal and the byte offset', async () => {
    const dataDir = tempDir()
    mkdirSync(join(dataDir, 'sales'), { recursive: true })
    writeFileSync(join(dataDir, 'sales', '00000001.journal'), 'not a record\nnor this\n')
    const run = await start({ MAILROOM_DATA_DIR: dataDir })
    expect(run.code).toBe(2)
    expectOneClearLine(run.stderr, /Journal '.*sales\/00000001\.journal' is corrupt at byte offset 0/)
  })

  it('refuses bad configuration, naming the variable', async () => {
    const run = await start({ MAILROOM_DATA_DIR: tempDir(), MAILROOM_RETRY_BASE_MS: 'soon' })
    expect(run.code).toBe(2)
    expectOneClearLine(run.stderr, /MAILROOM_RETRY_BASE_MS/)
  })

  it('refuses to run only some modules without a broker, naming the ones that would never run', async () => {
    const run = await start({ MAILROOM_DATA_DIR: tempDir() }, ['--modules', 'sales'])
    expect(run.code).toBe(2)
    expectOneClearLine(run.stderr, /Modules billing, shipping would never run/)
  })

  it('gives up on a broker that does not answer, naming it and the fix', async () => {
    const run = await start({ MAILROOM_DATA_DIR: tempDir(), MAILROOM_TRANSPORT: 'amqp://guest:guest@127.0.0.1:1', MAILROOM_BROKER_WAIT_MS: '1000' })
    expect(run.code).toBe(2)
    expectOneClearLine(run.stderr, /Cannot reach the broker at amqp:\/\/127\.0\.0\.1:1 .*Start RabbitMQ/)
  })
})
