import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { useTempDirs } from '../bus/support/temp-dir.js'
import { startWorker } from './fixtures/start-worker.js'

const worker = fileURLToPath(new URL('./fixtures/charge-crash-worker.ts', import.meta.url))
const tempDir = useTempDirs()

const journalText = (dir: string) =>
  readdirSync(dir)
    .filter((name) => name.endsWith('.journal'))
    .map((name) => readFileSync(join(dir, name), 'utf8'))
    .join('')

describe('when the process is killed between the gateway charge and the commit', () => {
  it('charges the customer once: the redelivered OrderPlaced finds the charge in the gateway’s memory', { timeout: 60_000 }, async () => {
    const dataDir = tempDir()
    const first = startWorker(worker, [dataDir, 'kill-after-charge'])
    const outcome = await first.exited
    expect(outcome.split('|')[0]).toBe('SIGKILL')
    // 1. The gateway took the charge (its own file); Billing never committed it, nor published OrderBilled.
    expect(readFileSync(join(dataDir, 'payment-gateway', 'charges.jsonl'), 'utf8')).toContain('"orderId":"o-crash"')
    expect(journalText(join(dataDir, 'billing'))).not.toContain('"k":"handled"')

    // 2. Started again: OrderPlaced is delivered to Billing again, which charges with the same idempotency key.
    const second = startWorker(worker, [dataDir, 'recover'])
    const [code, stdout, stderr] = (await second.exited).split('|')
    expect(code, stderr).toBe('0')
    const report = JSON.parse(stdout!.trim().split('\n').pop()!)
    expect(report.gateway).toEqual({ charged: 1, duplicates: 1, chargedTwice: 0 })
    expect(report.order).toMatchObject({ billing: { billed: true }, shipping: { shipped: true } })
  })
})
