import { describe, expect, it } from 'vitest'
import type { ScenarioResult } from '../../bench/harness.js'
import { formatTable } from '../../bench/table.js'

const rowOf = (table: string, name: string) => {
  const row = table.split('\n').find((line) => line.startsWith(`| ${name} `))
  if (!row) throw new Error(`no row '${name}' in\n${table}`)
  return row.split('|').slice(1, -1).map((cell) => cell.trim())
}

const durable: ScenarioResult = { name: 'durable: send -> handle, 100 in flight', unit: 'msg/s', rounds: [60_000, 64_000, 70_000] }
const ceiling: ScenarioResult = { name: 'ref: same, O_DSYNC writes', unit: 'rec/s', rounds: [200_000] }

describe('the bench table', () => {
  it('prints the median, the spread and the ratio to the reference', () => {
    const table = formatTable([ceiling, { ...durable, reference: ceiling.name, extra: { 'records per write': 73.7 }, target: '>= 100,000 msg/s' }])
    expect(rowOf(table, durable.name)).toEqual(['durable: send -> handle, 100 in flight', '64,000 msg/s', '±16%', '0.32x same, O_DSYNC writes', 'records per write 73.7', '>= 100,000 msg/s'])
  })

  it('says how many times the Mailroom row outran a peer measured against it', () => {
    const bullmq: ScenarioResult = { name: 'peer: BullMQ', unit: 'msg/s', rounds: [4_000, 4_267, 4_300], peerOf: durable.name, target: '>= 15x' }
    expect(rowOf(formatTable([durable, bullmq]), bullmq.name)[3]).toBe('durable: send -> handle, 100 in flight ÷ this: 15.0x')
  })

  it('leaves a peer ratio empty when the Mailroom row is not in the run or the peer was skipped', () => {
    const skipped: ScenarioResult = { name: 'peer: BullMQ', unit: 'msg/s', rounds: [0], peerOf: durable.name, extra: { skipped: 'redis-server: not found' } }
    expect(rowOf(formatTable([skipped]), skipped.name)[3]).toBe('')
    expect(rowOf(formatTable([durable, skipped]), skipped.name)[3]).toBe('')
  })
})
