import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { useTempDirs } from '../bus/support/temp-dir.js'
import { readJournal as scanJournal } from '../../scripts/chaos/reconcile.js'
import { startWorker } from './fixtures/start-worker.js'

const worker = fileURLToPath(new URL('./fixtures/crash-worker.ts', import.meta.url))
const tempDir = useTempDirs()

const total = Number(process.env.MAILROOM_CRASH_MESSAGES ?? 5_000)
const kills = Number(process.env.MAILROOM_CRASH_KILLS ?? 20)

const launch = (dataDir: string) => startWorker(worker, [dataDir, String(total)])

describe('when the process is killed', () => {
  it(`handles all ${total} messages across ${kills} SIGKILLs, and no handler's committed output appears twice`, { timeout: 240_000 }, async () => {
    const dataDir = tempDir()
    let killed = 0
    let finishedEarly = 0
    /** Messages through the last module after each kill: proof that the kills landed mid-work. */
    const progress: number[] = []
    while (killed < kills) {
      const run = launch(dataDir)
      await run.ready
      // A random moment while it sends, handles and commits.
      await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 140))
      run.child.kill('SIGKILL')
      const outcome = await run.exited
      if (outcome.startsWith('SIGKILL')) {
        killed++
        progress.push(scanJournal(join(dataDir, 'tally')).filter((record) => record.k === 'handled').length)
      }
      else if (outcome.includes('done')) finishedEarly++
      else throw new Error(`worker failed: ${outcome}`)
      expect(finishedEarly).toBeLessThan(5)
    }
    const last = launch(dataDir)
    const outcome = await last.exited
    expect(outcome).toContain('done')

    const outside = scanJournal(join(dataDir, '_outside'))
    const intake = scanJournal(join(dataDir, 'intake'))
    const workerRecords = scanJournal(join(dataDir, 'worker'))
    const tally = scanJournal(join(dataDir, 'tally'))

    // Every Ingest was accepted once.
    const ingestSeqs = outside.flatMap((record) => (record.k === 'out' ? record.msgs.map((entry) => (entry.env.body as { seq: number }).seq) : []))
    expect(new Set(ingestSeqs).size).toBe(total)
    expect(ingestSeqs).toHaveLength(total)

    for (const [name, records] of [['intake', intake], ['worker', workerRecords], ['tally', tally]] as const) {
      const handled = records.filter((record) => record.k === 'handled').map((record) => (record.k === 'handled' ? record.id : ''))
      // Each delivery consumed once: one consumed mark per message id.
      expect(new Set(handled).size, `${name} consumed marks`).toBe(handled.length)
      expect(handled, `${name} handled all`).toHaveLength(total)
      expect(records.filter((record) => record.k === 'failed'), `${name} failures`).toEqual([])
    }
    // Each stage's committed output exists once per sequence number: a second handling would have made a second message.
    for (const [name, records] of [['intake', intake], ['worker', workerRecords]] as const) {
      const outputs = records.flatMap((record) => (record.k === 'handled' ? record.msgs.map((entry) => (entry.env.body as { seq: number }).seq) : []))
      expect(outputs, `${name} outputs`).toHaveLength(total)
      expect(new Set(outputs).size, `${name} distinct outputs`).toBe(total)
    }
    expect(killed).toBeGreaterThanOrEqual(kills)
    expect(progress.filter((handled) => handled < total).length, `progress after each kill: ${progress.join(', ')}`).toBeGreaterThanOrEqual(Math.ceil(kills / 2))
  })
})
