import { constants, mkdtempSync, rmSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { Type } from '@sinclair/typebox'
import { defineEvent, defineModule, handle } from '../../src/bus/index.js'
import { OutsideOrigin } from '../../src/bus/messages/headers.js'
import { prepareOutgoing } from '../../src/bus/pipeline/outgoing.js'
import { createTopology } from '../../src/bus/routing/topology.js'
import { createDeliveryLedger, type LedgerEntry, type Segment } from '../../src/bus/outbox/delivery-ledger.js'

import { decodeRecordAt, RecordLines, type JournalRecord } from '../../src/bus/outbox/record.js'
import { perSecond, rounds, roundsWithFigure, withLagProbe, type Scenario } from '../harness.js'

const Tick = defineEvent('Tick', Type.Object({ n: Type.Integer() }))

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

/**
 * fsync'd group-commit appends of 200-byte records with 100 writers in flight: the disk's ceiling. Every
 * append made while a batch is under way, or in the same turn of the event loop, joins the next batch:
 * the write starts in a `setImmediate`, as the journal's does. (Started at once, the first append of a
 * turn went out alone and the writers settled into two halves taking turns, 50 records a write: this
 * reference then measured 0.6x what the disk allows.) `dsync` opens the file with O_DSYNC, as the journal
 * does: each batch is one write that returns once it is on disk, instead of a write and an fdatasync.
 */
async function groupCommit(count: number, dsync = false): Promise<{ rate: number; figure: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-bench-'))
  const file = await open(join(dir, 'ceiling.log'), constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | (dsync ? constants.O_DSYNC : 0))
  const record = Buffer.alloc(200, 'x')
  let pending: { buffers: Buffer[]; waiters: (() => void)[] } | undefined
  let flushing = false
  let scheduled = false
  let writes = 0
  const flush = async () => {
    scheduled = false
    flushing = true
    while (pending) {
      const batch = pending
      pending = undefined
      writes++
      await file.write(Buffer.concat(batch.buffers))
      if (!dsync) await file.datasync()
      for (const resolve of batch.waiters) resolve()
    }
    flushing = false
  }
  const append = () =>
    new Promise<void>((resolve) => {
      pending ??= { buffers: [], waiters: [] }
      pending.buffers.push(record)
      pending.waiters.push(resolve)
      if (!flushing && !scheduled) {
        scheduled = true
        setImmediate(flush)
      }
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
  return { rate, figure: count / writes }
}

const tickTopology = () => createTopology([defineModule({ name: 'worker', handlers: [handle(Tick, async () => {})] })], {})

/** A Tick published from outside, built by the bus's outgoing pipeline: the envelope and its destinations. */
const tickFromOutside = (topology: ReturnType<typeof tickTopology>, n: number) =>
  prepareOutgoing(topology, { mode: 'publish', definition: Tick, body: { n }, options: undefined, origin: OutsideOrigin, incoming: undefined, now: Date.now() })

/**
 * What the bus must build for every message before anything is queued or written: the envelope (a fresh
 * id, the design's headers, the body validated). Any in-memory rate is below this.
 */
async function envelopeCeiling(count: number): Promise<number> {
  const topology = tickTopology()
  const kept: unknown[] = []
  const started = performance.now()
  for (let n = 0; n < count; n++) kept.push(tickFromOutside(topology, n))
  const rate = perSecond(count, performance.now() - started)
  if (kept.length !== count) throw new Error('built too few envelopes')
  return rate
}

/**
 * The bookkeeping a queued delivery needs, and nothing else of the bus: the ledger (src/bus/outbox/
 * delivery-ledger.ts) learns of `depth` messages (a state object holding the envelope, a `Map` entry by
 * id), then each is consumed in arrival order, which looks its state up by id, as the bus does when a
 * handled record is committed. Repeated until `total` are consumed; only the consuming is timed. With a
 * million waiting, the states and the map's entries are far from the CPU's caches by the time their turn
 * comes: the rate at 1,000 against the rate at 1,000,000 is how much of the in-memory drain's depth
 * target the memory itself takes.
 */
async function ledgerDrain(depth: number, total: number): Promise<number> {
  const topology = tickTopology()
  let consumingMs = 0
  for (let consumed = 0; consumed < total; consumed += depth) {
    const ledger = createDeliveryLedger()
    const produced = ledger.segment('_outside', 1)
    const handled = ledger.segment('worker', 1)
    const ids: string[] = []
    for (let n = 0; n < depth; n++) {
      const { env } = tickFromOutside(topology, n)
      ledger.produced(produced, env.id, env, 'worker', undefined, 0, -1, 0)
      ids.push(env.id)
    }
    const started = performance.now()
    for (const id of ids) ledger.recorded(handled, id, 'worker', 'handled', 0)
    consumingMs += performance.now() - started
    if (ledger.get(ids[0]!, 'worker')?.kind !== 'handled') throw new Error('the ledger lost a delivery')
  }
  return perSecond(total, consumingMs)
}

/**
 * What replay does per pending message at the least, while each has state of its own: the id read off
 * the journal's bytes as a string, an object with the ledger's fields (src/bus/outbox/delivery-ledger.ts),
 * an entry in a `Map` by id and a slot in its segment's list. Plain code, no ledger logic, no decoding:
 * the ceiling of a replay of `count` records, each one message, that keeps a state per delivery.
 */
async function replayFloor(count: number): Promise<number> {
  const idLength = 36
  const bytes = Buffer.from(Array.from({ length: count }, (_, n) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`).join(''), 'latin1')
  const states = new Map<string, LedgerEntry>()
  const segmentList: LedgerEntry[] = []
  const noOlder: Segment[] = []
  const started = performance.now()
  for (let n = 0; n < count; n++) {
    const id = bytes.toString('latin1', n * idLength, (n + 1) * idLength)
    // Typed as the ledger's state, so a field added there must be added here and the floor stays honest.
    const state: LedgerEntry = { id, module: 'worker', producer: undefined, destination: undefined, older: noOlder, kind: undefined, env: undefined, offset: n * 462, size: 462, at: undefined, failures: undefined, since: 0, writing: 0, keepUntil: 0, settled: undefined }
    states.set(id, state)
    segmentList.push(state)
  }
  const rate = perSecond(count, performance.now() - started)
  if (states.size !== count || segmentList.length !== count) throw new Error('kept too few states')
  return rate
}

/** A record as the bus writes it for one message sent from outside: full headers, a small body. */
function outRecord(n: number): JournalRecord {
  const id = randomUUID()
  const headers = {
    'mailroom.message-id': id,
    'mailroom.type': 'Tick',
    'mailroom.kind': 'event',
    'mailroom.correlation-id': id,
    'mailroom.conversation-id': id,
    'mailroom.origin': 'outside',
    'mailroom.sent-at': new Date().toISOString(),
  }
  return { k: 'out', t: Date.now(), msgs: [{ to: ['worker-1'], env: { id, type: 'Tick', headers, body: { n } } }] }
}

/**
 * The journal format's own cost, with nothing of the bus around it: per message, the `out` record that
 * carries it and the `handled` record that consumes it, framed as JSON lines with a CRC. The in-memory
 * mode runs the same journal code, so this is its ceiling.
 */
async function encodeCeiling(count: number): Promise<number> {
  const records = Array.from({ length: count }, (_, n) => outRecord(n))
  const started = performance.now()
  // One buffer per 1,000 messages, as a journal's group commit would use.
  let lines = new RecordLines()
  for (const [n, record] of records.entries()) {
    if (n % 1_000 === 0) lines = new RecordLines()
    lines.append(record)
    lines.append({ k: 'handled', t: record.t, id: record.k === 'out' ? record.msgs[0]!.env.id : '', msgs: [] })
  }
  if (lines.length === 0) throw new Error('encoded nothing')
  return perSecond(count, performance.now() - started)
}

/** Reading records back (length, CRC, JSON.parse), with nothing of the bus around it: the ceiling of a replay. */
async function decodeCeiling(count: number): Promise<number> {
  const lines = new RecordLines()
  for (let n = 0; n < count; n++) lines.append(outRecord(n))
  const data = lines.bytes()
  const started = performance.now()
  let offset = 0
  let decoded = 0
  while (offset < data.length) {
    const result = decodeRecordAt(data, offset)
    if (!result.ok) throw new Error(result.reason)
    offset = result.next
    decoded++
  }
  return perSecond(decoded, performance.now() - started)
}

/** How late `setTimeout(0)` fires in a process doing nothing: the floor under every lag figure. */
async function idleLag(ms: number): Promise<{ maxLagMs: number; p99LagMs: number }> {
  const { maxLagMs, p99LagMs } = await withLagProbe(() => new Promise((resolve) => setTimeout(resolve, ms)))
  return { maxLagMs, p99LagMs }
}

export const referenceScenarios: Scenario = async ({ quick, rounds: n }) => {
  const idle = []
  for (let i = 0; i < n; i++) idle.push(await idleLag(quick ? 500 : 2_000))
  return [
  { name: 'ref: array queue + async handler', unit: 'msg/s', rounds: await rounds(n, () => arrayQueue(quick ? 200_000 : 1_000_000)) },
  { name: 'ref: fsync group commit, 100 writers', unit: 'rec/s', ...(await roundsWithFigure(n, 'records per write', () => groupCommit(quick ? 20_000 : 100_000))) },
  { name: 'ref: same, O_DSYNC writes (the journal\'s way)', unit: 'rec/s', ...(await roundsWithFigure(n, 'records per write', () => groupCommit(quick ? 20_000 : 100_000, true))) },
  { name: 'ref: envelope alone (id, headers, validation)', unit: 'msg/s', rounds: await rounds(n, () => envelopeCeiling(quick ? 200_000 : 1_000_000)) },
  { name: 'ref: ledger alone, consume with 1,000 queued', unit: 'msg/s', rounds: await rounds(n, () => ledgerDrain(1_000, quick ? 50_000 : 200_000)) },
  {
    name: `ref: ledger alone, consume with ${quick ? '100,000' : '1,000,000'} queued`,
    unit: 'msg/s',
    rounds: await rounds(n, () => ledgerDrain(quick ? 100_000 : 1_000_000, quick ? 100_000 : 1_000_000)),
    reference: 'ref: ledger alone, consume with 1,000 queued',
  },
  { name: 'ref: JSON line encode, 2 records per msg', unit: 'msg/s', rounds: await rounds(n, () => encodeCeiling(quick ? 100_000 : 500_000)) },
  { name: 'ref: JSON line decode (CRC + parse)', unit: 'rec/s', rounds: await rounds(n, () => decodeCeiling(quick ? 100_000 : 500_000)) },
  {
    name: 'ref: replay floor (id, state, Map entry a record)',
    unit: 'rec/s',
    rounds: await rounds(n, () => replayFloor(quick ? 100_000 : 1_000_000)),
  },
  {
    name: 'ref: idle event loop, setTimeout(0) late by',
    unit: 'ms (max)',
    rounds: idle.map((round) => Number(round.maxLagMs.toFixed(1))),
    extra: { 'p99 lag ms': Number(Math.max(...idle.map((round) => round.p99LagMs)).toFixed(1)) },
  },
]
}
