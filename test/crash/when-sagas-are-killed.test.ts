import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { useTempDirs } from '../bus/support/temp-dir.js'
import { readJournal as scanJournal } from '../../scripts/chaos/reconcile.js'
import { startWorker } from './fixtures/start-worker.js'

const worker = fileURLToPath(new URL('./fixtures/saga-crash-worker.ts', import.meta.url))
const tempDir = useTempDirs()

const orders = Number(process.env.MAILROOM_SAGA_CRASH_ORDERS ?? 1_500)
const kills = Number(process.env.MAILROOM_SAGA_CRASH_KILLS ?? 10)

const launch = (dataDir: string) => startWorker(worker, [dataDir, String(orders)])

describe('when a process with active sagas and pending timeouts is killed', () => {
  it(`ends all ${orders} sagas exactly once across ${kills} SIGKILLs, every timeout firing`, { timeout: 240_000 }, async () => {
    const dataDir = tempDir()
    let killed = 0
    let finishedEarly = 0
    /** After each kill: active instances and pending timeouts in the journal, proof the kills landed mid-saga. */
    const inFlight: string[] = []
    while (killed < kills) {
      const run = launch(dataDir)
      await run.ready
      await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 150))
      run.child.kill('SIGKILL')
      const outcome = await run.exited
      if (outcome.startsWith('SIGKILL')) {
        killed++
        const shipping = scanJournal(join(dataDir, 'shipping'))
        const started = shipping.filter((record) => record.k === 'handled' && record.sagas?.some((change) => !change.done)).length
        const timeouts = shipping.flatMap((record) => (record.k === 'handled' ? record.msgs.filter((entry) => entry.at !== undefined) : [])).length
        const reminded = shipping.filter((record) => record.k === 'handled' && record.sagas?.some((change) => (change.data as { reminded?: boolean } | undefined)?.reminded)).length
        inFlight.push(`${started}/${timeouts}/${reminded}`)
      } else if (outcome.includes('done')) finishedEarly++
      else throw new Error(`worker failed: ${outcome}`)
      expect(finishedEarly).toBeLessThan(5)
    }
    const last = launch(dataDir)
    const outcome = await last.exited
    // The last run ends with no saga left.
    expect(outcome).toContain('done 0')

    const shipping = scanJournal(join(dataDir, 'shipping'))
    const customers = scanJournal(join(dataDir, 'customers'))
    const handledIds = shipping.filter((record) => record.k === 'handled').map((record) => (record.k === 'handled' ? record.id : ''))
    // Each delivery consumed once: OrderPlaced, OrderBilled and the reminder of every order.
    expect(new Set(handledIds).size).toBe(handledIds.length)
    expect(handledIds).toHaveLength(orders * 3)
    // Every timeout asked for was delivered and handled while its instance was active: one per order.
    const requested = shipping.flatMap((record) => (record.k === 'handled' ? record.msgs.filter((entry) => entry.env.type === 'Reminder') : []))
    expect(requested).toHaveLength(orders)
    const remindedOrders = shipping.flatMap((record) =>
      record.k === 'handled' ? (record.sagas ?? []).filter((change) => (change.data as { reminded?: boolean } | undefined)?.reminded || change.done).map((change) => change.id) : [],
    )
    expect(new Set(remindedOrders).size).toBe(orders)
    // Each saga ended exactly once: one completion and one OrderShipped per order, handled once downstream.
    const completions = shipping.flatMap((record) => (record.k === 'handled' ? (record.sagas ?? []).filter((change) => change.done).map((change) => change.id) : []))
    expect(completions).toHaveLength(orders)
    expect(new Set(completions).size).toBe(orders)
    const shipped = shipping.flatMap((record) => (record.k === 'handled' ? record.msgs.filter((entry) => entry.env.type === 'OrderShipped').map((entry) => (entry.env.body as { orderId: string }).orderId) : []))
    expect(shipped).toHaveLength(orders)
    expect(new Set(shipped).size).toBe(orders)
    const delivered = customers.filter((record) => record.k === 'handled')
    expect(delivered).toHaveLength(orders)
    expect(shipping.concat(customers).filter((record) => record.k === 'failed')).toEqual([])
    expect(killed).toBeGreaterThanOrEqual(kills)
    expect(inFlight.filter((state) => !state.startsWith('0/')).length, `started/timeouts/reminded after each kill: ${inFlight.join(', ')}`).toBeGreaterThanOrEqual(Math.ceil(kills / 2))
  })
})
