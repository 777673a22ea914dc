import { join } from 'node:path'
import { JournalCorruptError, JournalWriteError } from '../errors.js'
import { isCode, type AppendHandle, type FileSystem } from '../files/file-system.js'
import { decodeReplayRecordAt, RecordLines, type JournalRecord, type ReplayRecord } from './record.js'

export interface JournalOptions {
  fs: FileSystem
  /** The journal's own directory, e.g. `data/sales`. */
  dir: string
  /** A segment is closed once it holds this many bytes; only closed segments are compacted. */
  maxSegmentBytes: number
}

export type { TornTail } from '../persistence/persistence.js'
import type { TornTail } from '../persistence/persistence.js'

export interface OpenedJournal {
  /** How many records were read. */
  records: number
  tornTail?: TornTail
}

/**
 * Receives each record as it is read, oldest first, with where it lies (byte offset and size in its
 * segment file): a replay keeps no list of a million records. `out` records usually come skimmed, without
 * their messages (see record-skim.ts).
 */
export type RecordVisitor = (segment: number, record: ReplayRecord, offset: number, size: number) => void

/** Where a batch's ranges landed in their segment files; filled in as each range is written. */
interface BatchPlacement {
  readonly ranges: { segment: number; start: number; end: number }[]
  /** Per range, the file offset its first byte was written at. */
  readonly bases: number[]
}

/** One appended record. (A class: a closure per append would cost an allocation on the hot path.) */
export class Appended {
  constructor(
    /** The segment the record lands in, known at once so the caller can account for it. */
    readonly segment: number,
    /** Resolves once the record is on disk (fsync'd); shared by every append of the same group. */
    readonly committed: Promise<void>,
    /** The record's size in bytes, framing included. */
    readonly size: number,
    private readonly start: number,
    private readonly batch: BatchPlacement,
  ) {}

  /**
   * The record's byte offset in its segment file; known only once `committed` resolved. (Not at append
   * time: a failed earlier batch is cut off the file, which moves everything after it.)
   */
  fileOffset(): number {
    const { ranges, bases } = this.batch
    for (let i = 0; i < ranges.length; i++) {
      const range = ranges[i]!
      if (range.segment === this.segment) {
        const base = bases[i]
        if (base === undefined) throw new Error(`record in segment ${this.segment} is not written yet`)
        return base + (this.start - range.start)
      }
    }
    throw new Error(`record in segment ${this.segment} has no range in its batch`)
  }
}

export interface Journal {
  readonly dir: string
  open(visit?: RecordVisitor): Promise<OpenedJournal>
  append(record: JournalRecord): Appended
  /** Segments that are closed and fully synced: the only ones compaction may touch. */
  sealedSegments(): number[]
  totalBytes(): number
  deleteSegment(segment: number): Promise<void>
  /** Resolves when every append so far is synced. */
  flushed(): Promise<void>
  close(): Promise<void>
  /** Called (synchronously, inside append) when a new segment is started. */
  onRoll: (() => void) | undefined
}

/** Records decoded between two turns of the event loop during replay (a few milliseconds' worth). */
const yieldEvery = 2_048

const segmentFilePattern = /^(\d{8})\.journal$/

export function segmentFileName(segment: number): string {
  return `${String(segment).padStart(8, '0')}.journal`
}

interface PendingBatch extends BatchPlacement {
  lines: RecordLines
  /** Consecutive byte ranges of `lines`, one per segment the batch touches (segments only go up). */
  ranges: { segment: number; start: number; end: number }[]
  promise: Promise<void>
  resolve: () => void
  reject: (error: unknown) => void
}

/**
 * An append-only, segmented journal with group commit: every append made while a write is pending or
 * in progress joins the next batch, and a batch costs one write and one fsync per segment it touches.
 */
export function createJournal(options: JournalOptions): Journal {
  const { fs, dir, maxSegmentBytes } = options
  const sizes = new Map<number, number>()
  let active = 1
  let pending: PendingBatch | undefined
  let flushing: Promise<void> | undefined
  let flushScheduled = false
  let lowestUnsynced = Number.POSITIVE_INFINITY
  let openSegment: { segment: number; handle: AppendHandle } | undefined
  let closed = false

  const fileOf = (segment: number) => join(dir, segmentFileName(segment))

  const newBatch = (): PendingBatch => {
    let resolve!: () => void
    let reject!: (error: unknown) => void
    const promise = new Promise<void>((res, rej) => {
      resolve = res
      reject = rej
    })
    // A batch nobody awaits must not crash the process as an unhandled rejection.
    promise.catch(() => {})
    return { lines: new RecordLines(), ranges: [], bases: [], promise, resolve, reject }
  }

  async function handleFor(segment: number): Promise<{ segment: number; handle: AppendHandle }> {
    if (openSegment?.segment === segment) return openSegment
    if (openSegment) await openSegment.handle.close()
    const handle = await fs.openAppend(fileOf(segment))
    // A new file's directory entry must be durable too, or a crash could lose the whole file.
    await fs.syncDir(dir)
    openSegment = { segment, handle }
    return openSegment
  }

  const syncedSizes = new Map<number, number>()
  const syncedSizeOf = (segment: number) => syncedSizes.get(segment) ?? 0

  async function writeBatch(batch: PendingBatch): Promise<void> {
    for (const [index, { segment, start, end }] of batch.ranges.entries()) {
      const target = await handleFor(segment)
      const before = syncedSizeOf(segment)
      batch.bases[index] = before
      try {
        await target.handle.append(batch.lines.bytes(start, end))
        await target.handle.sync()
      } catch (cause) {
        // Cut the partial write off so the next append starts on a record boundary.
        await target.handle.truncate(before).catch(() => {})
        throw new JournalWriteError(fileOf(segment), { cause })
      }
      syncedSizes.set(segment, before + (end - start))
    }
  }

  async function flushLoop(): Promise<void> {
    flushScheduled = false
    while (pending) {
      const batch = pending
      pending = undefined
      try {
        await writeBatch(batch)
        batch.resolve()
      } catch (error) {
        // The failed bytes were never acknowledged; un-count them so sizes match the disk.
        for (const range of batch.ranges) sizes.set(range.segment, (sizes.get(range.segment) ?? 0) - (range.end - range.start))
        batch.reject(error)
      }
      // `pending` may have been refilled by appends made during the await above.
      const next = pending as PendingBatch | undefined
      lowestUnsynced = next?.ranges[0]?.segment ?? Number.POSITIVE_INFINITY
    }
    flushing = undefined
  }

  function scheduleFlush(): void {
    if (flushScheduled || flushing) return
    flushScheduled = true
    // setImmediate, not a microtask: every append made in this turn of the event loop joins the batch.
    setImmediate(() => {
      flushing = flushLoop()
    })
  }

  const journal: Journal = {
    dir,
    onRoll: undefined,

    async open(visit) {
      await fs.mkdir(dir)
      const segments = (await fs.readdir(dir))
        .map((name) => segmentFilePattern.exec(name)?.[1])
        .filter((digits): digits is string => digits !== undefined)
        .map(Number)
        .sort((a, b) => a - b)
      let records = 0
      let tornTail: TornTail | undefined
      // The next segment is read while this one is decoded.
      let reading = segments.length > 0 ? fs.readFile(fileOf(segments[0]!)) : undefined
      for (const [index, segment] of segments.entries()) {
        const file = fileOf(segment)
        const data = await reading!
        const following = segments[index + 1]
        reading = following === undefined ? undefined : fs.readFile(fileOf(following))
        // A failed read ahead is reported when its turn comes (or not at all, if this segment fails first).
        reading?.catch(() => {})
        const isLast = index === segments.length - 1
        let offset = 0
        while (offset < data.length) {
          const result = decodeReplayRecordAt(data, offset)
          if (result.ok) {
            records++
            visit?.(segment, result.record, offset, result.next - offset)
            offset = result.next
            // Now and then the event loop runs, so the segment read ahead makes progress meanwhile.
            if (records % yieldEvery === 0) await new Promise((resolve) => setImmediate(resolve))
            continue
          }
          if (isLast && result.reachesEnd) {
            tornTail = { file, offset, droppedBytes: data.length - offset, reason: result.reason }
            await fs.truncate(file, offset)
            break
          }
          throw new JournalCorruptError(file, offset, result.reason)
        }
        const size = tornTail && isLast ? tornTail.offset : data.length
        sizes.set(segment, size)
        syncedSizes.set(segment, size)
      }
      const last = segments.at(-1)
      if (last !== undefined) active = (sizes.get(last) ?? 0) < maxSegmentBytes ? last : last + 1
      if (!sizes.has(active)) sizes.set(active, 0)
      return tornTail ? { records, tornTail } : { records }
    },

    append(record) {
      if (closed) throw new JournalWriteError(dir, { cause: new Error('journal is closed') })
      pending ??= newBatch()
      const { lines, ranges } = pending
      const start = lines.length
      const bytes = lines.append(record)
      const activeSize = sizes.get(active) ?? 0
      if (activeSize > 0 && activeSize + bytes > maxSegmentBytes) {
        active++
        sizes.set(active, 0)
        journal.onRoll?.()
      }
      sizes.set(active, (sizes.get(active) ?? 0) + bytes)
      const last = ranges.at(-1)
      if (last?.segment === active) last.end = start + bytes
      else ranges.push({ segment: active, start, end: start + bytes })
      if (active < lowestUnsynced) lowestUnsynced = active
      scheduleFlush()
      return new Appended(active, pending.promise, bytes, start, pending)
    },

    sealedSegments() {
      const limit = Math.min(active, lowestUnsynced)
      return [...sizes.keys()].filter((segment) => segment < limit).sort((a, b) => a - b)
    },

    totalBytes() {
      let total = 0
      for (const size of sizes.values()) total += size
      return total
    },

    async deleteSegment(segment) {
      if (segment >= active) throw new Error(`refusing to delete active segment ${segment} of ${dir}`)
      if (openSegment?.segment === segment) {
        await openSegment.handle.close()
        openSegment = undefined
      }
      try {
        await fs.unlink(fileOf(segment))
      } catch (error) {
        // A segment that was never written has no file; gone is what we wanted.
        if (!isCode(error, 'ENOENT')) throw error
      }
      await fs.syncDir(dir)
      sizes.delete(segment)
      syncedSizes.delete(segment)
    },

    async flushed() {
      while (pending || flushing || flushScheduled) {
        if (pending) await pending.promise.catch(() => {})
        if (flushing) await flushing
        if (flushScheduled && !pending) await new Promise((resolve) => setImmediate(resolve))
      }
    },

    async close() {
      await journal.flushed()
      closed = true
      if (openSegment) await openSegment.handle.close()
      openSegment = undefined
    },
  }
  return journal
}
