import { JournalCorruptError } from '../errors.js'
import type { Envelope } from '../messages/envelope.js'
import type { LedgerEntry, Segment } from './delivery-ledger.js'
import { isCode, type FileSystem } from '../files/file-system.js'
import { decodeRecordAt, type JournalRecord } from './record.js'

export interface EnvelopeReaderOptions {
  fs: FileSystem
  fileOf: (segment: Segment) => string
}

/** Records closer than this are read with one call, the bytes between them read and skipped. */
const maxGapBytes = 256 * 1024
/** No single read grows past this. */
const maxReadBytes = 4 * 1024 * 1024
/** A delivery whose record moved (compaction carried it) while it was read is read again this often. */
const maxAttempts = 5

interface Located {
  state: LedgerEntry
  segment: Segment
  offset: number
  size: number
}

/** True when the delivery's message can be read back from its producer record. */
export function canReadBack(state: LedgerEntry): boolean {
  return state.kind === undefined && state.producer !== undefined && state.offset >= 0
}

/**
 * Reads queued messages back from their producer records, in file order, one read per run of nearby
 * records: what lets a long queue keep its envelopes on disk. Resolves with each delivery's message; a
 * delivery that is no longer pending (handled meanwhile) is left out.
 */
export async function readEnvelopes(options: EnvelopeReaderOptions, states: readonly LedgerEntry[]): Promise<Map<LedgerEntry, Envelope>> {
  const found = new Map<LedgerEntry, Envelope>()
  let todo = states.filter(canReadBack)
  for (let attempt = 1; todo.length > 0; attempt++) {
    const located = todo.map((state): Located => ({ state, segment: state.producer!, offset: state.offset, size: state.size }))
    const missing: Located[] = []
    for (const group of groupBySegment(located)) {
      for (const run of runsOf(group)) await readRun(options, run, found, missing)
    }
    // A record that could not be read may have been carried to a new place meanwhile: read it there.
    todo = missing.filter(({ state, segment, offset }) => canReadBack(state) && (state.producer !== segment || state.offset !== offset)).map(({ state }) => state)
    const lost = missing.find(({ state, segment, offset }) => canReadBack(state) && state.producer === segment && state.offset === offset)
    if (lost) throw new JournalCorruptError(options.fileOf(lost.segment), lost.offset, `the file ends before the record of message ${lost.state.id}`, 'reading a queued message back')
    if (attempt === maxAttempts && todo.length > 0) throw new Error(`message ${todo[0]!.id} kept moving while it was read back`)
  }
  return found
}

function groupBySegment(located: Located[]): Located[][] {
  const groups = new Map<Segment, Located[]>()
  for (const entry of located) {
    const group = groups.get(entry.segment)
    if (group) group.push(entry)
    else groups.set(entry.segment, [entry])
  }
  return [...groups.values()].map((group) => group.sort((a, b) => a.offset - b.offset))
}

/** Splits a segment's records (sorted by offset) into runs that one read each covers. */
function* runsOf(group: Located[]): Generator<Located[]> {
  let run: Located[] = []
  let runStart = 0
  let runEnd = 0
  for (const entry of group) {
    const end = entry.offset + entry.size
    if (run.length > 0 && (entry.offset - runEnd > maxGapBytes || Math.max(end, runEnd) - runStart > maxReadBytes)) {
      yield run
      run = []
    }
    if (run.length === 0) runStart = entry.offset
    runEnd = run.length === 0 ? end : Math.max(end, runEnd)
    run.push(entry)
  }
  if (run.length > 0) yield run
}

async function readRun(options: EnvelopeReaderOptions, run: Located[], found: Map<LedgerEntry, Envelope>, missing: Located[]): Promise<void> {
  const file = options.fileOf(run[0]!.segment)
  const start = run[0]!.offset
  let end = start
  for (const entry of run) end = Math.max(end, entry.offset + entry.size)
  let data: Uint8Array
  try {
    data = await options.fs.readRange(file, start, end - start)
  } catch (error) {
    // Compaction deleted the segment after carrying its records elsewhere: the caller looks again.
    if (isCode(error, 'ENOENT')) {
      missing.push(...run)
      return
    }
    throw error
  }
  // An event for two modules of this bus is one record: decode it once.
  const decoded = new Map<number, JournalRecord>()
  for (const entry of run) {
    if (entry.offset + entry.size - start > data.length) {
      missing.push(entry)
      continue
    }
    let record = decoded.get(entry.offset)
    if (!record) {
      const result = decodeRecordAt(data, entry.offset - start)
      if (!result.ok) throw new JournalCorruptError(file, entry.offset, result.reason, 'reading a queued message back')
      record = result.record
      decoded.set(entry.offset, record)
    }
    const env = envelopeIn(record, entry.state.id)
    if (!env) throw new JournalCorruptError(file, entry.offset, `the record there does not hold message ${entry.state.id}`, 'reading a queued message back')
    found.set(entry.state, env)
  }
}

function envelopeIn(record: JournalRecord, id: string): Envelope | undefined {
  if (record.k !== 'out' && record.k !== 'handled') return undefined
  for (const entry of record.msgs) if (entry.env.id === id) return entry.env
  return undefined
}
