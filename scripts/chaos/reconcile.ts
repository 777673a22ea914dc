import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { decodeRecordAt, type JournalRecord } from '../../src/bus/outbox/record.js'

/** Every complete record of one journal directory, in order (read-only; a torn tail is skipped). */
export function readJournal(dir: string): JournalRecord[] {
  if (!existsSync(dir)) return []
  const records: JournalRecord[] = []
  for (const name of readdirSync(dir).filter((file) => file.endsWith('.journal')).sort()) {
    const data = readFileSync(join(dir, name))
    let offset = 0
    while (offset < data.length) {
      const result = decodeRecordAt(data, offset)
      if (!result.ok) break
      records.push(result.record)
      offset = result.next
    }
  }
  return records
}

/** How many times each order was shipped: OrderShipped as Shipping committed it. */
export function shippedCounts(dataDir: string): Map<string, number> {
  const counts = new Map<string, number>()
  for (const record of readJournal(join(dataDir, 'shipping'))) {
    if (record.k !== 'handled') continue
    for (const entry of record.msgs) {
      if (entry.env.type !== 'OrderShipped') continue
      const { orderId } = entry.env.body as { orderId: string }
      counts.set(orderId, (counts.get(orderId) ?? 0) + 1)
    }
  }
  return counts
}

export interface FailedEntry {
  module: string
  type: string
  orderId: string | undefined
  reason: string
}

/** Messages whose latest record in their module's journal is `failed`: what the error queue holds. */
export function errorQueue(dataDir: string, modules: readonly string[]): FailedEntry[] {
  const failed: FailedEntry[] = []
  for (const module of modules) {
    const latest = new Map<string, JournalRecord>()
    for (const record of readJournal(join(dataDir, module))) if ('id' in record && record.k !== 'saga') latest.set(record.id, record)
    for (const record of latest.values()) {
      if (record.k !== 'failed') continue
      failed.push({ module, type: record.env.type, orderId: (record.env.body as { orderId?: string }).orderId, reason: `${record.failures[0]?.type}: ${record.failures[0]?.message}` })
    }
  }
  return failed
}

/** Delayed-retry rounds written by the modules: every one is a failure that was retried later. */
export function delayedRounds(dataDir: string, modules: readonly string[]): number {
  return modules.reduce((sum, module) => sum + readJournal(join(dataDir, module)).filter((record) => record.k === 'delayed').length, 0)
}
