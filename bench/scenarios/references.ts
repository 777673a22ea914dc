import { mkdtempSync, rmSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { perSecond, rounds, type Scenario } from '../harness.js'

/** A plain array queue drained by an async handler: what any in-process bus is measured against. */
async function arrayQueue(count: number): Promise<number> {
  const queue: number[] = []
  let handled = 0
  const handler = async (n: number) => {
    handled += n >= 0 ? 1 : 0
  }
  const started = performance.now()
  for (let i = 0; i < count; i++) queue.push(i)
  for (let i = 0; i < queue.length; i++) await handler(queue[i]!)
  if (handled !== count) throw new Error('lost messages')
  return perSecond(count, performance.now() - started)
}

/** fsync'd group-commit appends of 200-byte records with 100 writers in flight: the disk's ceiling. */
async function groupCommit(count: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-bench-'))
  const file = await open(join(dir, 'ceiling.log'), 'a')
  const record = Buffer.alloc(200, 'x')
  let pending: { buffers: Buffer[]; waiters: (() => void)[] } | undefined
  let flushing = false
  const flush = async () => {
    flushing = true
    while (pending) {
      const batch = pending
      pending = undefined
      await file.write(Buffer.concat(batch.buffers))
      await file.datasync()
      for (const resolve of batch.waiters) resolve()
    }
    flushing = false
  }
  const append = () =>
    new Promise<void>((resolve) => {
      pending ??= { buffers: [], waiters: [] }
      pending.buffers.push(record)
      pending.waiters.push(resolve)
      if (!flushing) void flush()
    })
  let written = 0
  const writer = async () => {
    while (written < count) {
      written++
      await append()
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: 100 }, writer))
  const rate = perSecond(count, performance.now() - started)
  await file.close()
  rmSync(dir, { recursive: true, force: true })
  return rate
}

export const referenceScenarios: Scenario = async ({ quick, rounds: n }) => [
  { name: 'ref: array queue + async handler', unit: 'msg/s', rounds: await rounds(n, () => arrayQueue(quick ? 200_000 : 1_000_000)) },
  { name: 'ref: fsync group commit, 100 writers', unit: 'rec/s', rounds: await rounds(n, () => groupCommit(quick ? 20_000 : 100_000)) },
]
