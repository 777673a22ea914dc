import { join } from 'node:path'
import { JournalCorruptError, JournalWriteError } from '../errors.js'
import { isCode, type AppendHandle, type FileSystem } from './file-system.js'
import { decodeReplayRecordAt, RecordLines, type JournalRecord, type ReplayRecord } from './record.js'

export interface JournalOptions {
  fs: FileSystem
  /** The journal's own directory, e.g. `data/sales`. */
  dir: string
  /** A segment is closed once it holds this many bytes; only closed segments are compacted. */
  maxSegmentBytes: number
}

export interface TornTail {
  file: string
  offset: number
  droppedBytes: number
  reason: string
}

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

/** Fsyncs under way at once; a third measured no faster than two on this disk. */
const maxSyncsInFlight = 2

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

  /** Bytes known to be in each segment's file: written (synced or not). Where the next batch lands. */
  const writtenSizes = new Map<number, number>()
  const writtenSizeOf = (segment: number) => writtenSizes.get(segment) ?? 0

  /** The failed bytes were never acknowledged; un-count them so sizes match the disk. */
  function uncount(batch: PendingBatch): void {
    for (const range of batch.ranges) sizes.set(range.segment, (sizes.get(range.segment) ?? 0) - (range.end - range.start))
  }

  /** Writes and syncs every range in turn: the way for a batch that starts or spans a segment. */
  async function writeAndSync(batch: PendingBatch): Promise<void> {
    for (const [index, { segment, start, end }] of batch.ranges.entries()) {
      const target = await handleFor(segment)
      const before = writtenSizeOf(segment)
      batch.bases[index] = before
      try {
        await target.handle.append(batch.lines.bytes(start, end))
        writtenSizes.set(segment, before + (end - start))
        await target.handle.sync()
      } catch (cause) {
        // Cut the partial write off so the next append starts on a record boundary.
        await target.handle.truncate(before).catch(() => {})
        writtenSizes.set(segment, before)
        throw new JournalWriteError(fileOf(segment), { cause })
      }
    }
  }

  /** A batch written to the open segment whose fsync is under way. */
  interface Syncing {
    batch: PendingBatch
    segment: number
    /** Where its bytes start in the file: a failure cuts the file back to here. */
    base: number
    handle: AppendHandle
    /** Settles with the sync's error, or undefined; never rejects. */
    done: Promise<unknown>
  }

  let wake: (() => void) | undefined
  let wakeScheduled = false

  /**
   * Writes pending batches and syncs them, with up to two fsyncs under way at once: the next batch is
   * written while the previous one syncs (its fsync covers both, so it cannot land sooner), which took
   * this disk from ~124k to ~160k synced 200-byte records a second with 100 writers. Batches resolve in
   * the order they were written. If a sync fails, that batch and every batch written after it are
   * rejected and cut off the file, as a failed batch always was.
   */
  async function flushLoop(): Promise<void> {
    flushScheduled = false
    const syncing: Syncing[] = []
    const track = () => {
      lowestUnsynced = Math.min(syncing[0]?.segment ?? Number.POSITIVE_INFINITY, pending?.ranges[0]?.segment ?? Number.POSITIVE_INFINITY)
    }
    while (pending || syncing.length > 0) {
      if (pending && syncing.length < maxSyncsInFlight) {
        const batch = pending
        pending = undefined
        const only = batch.ranges.length === 1 ? batch.ranges[0]! : undefined
        if (!only || openSegment?.segment !== only.segment) {
          // A new segment: let the syncs under way land first (handleFor closes the old file).
          while (syncing.length > 0) await settleOldest(syncing)
          try {
            await writeAndSync(batch)
            batch.resolve()
          } catch (error) {
            uncount(batch)
            batch.reject(error)
          }
          track()
          continue
        }
        const { handle } = openSegment
        const base = writtenSizeOf(only.segment)
        batch.bases[0] = base
        try {
          await handle.append(batch.lines.bytes(only.start, only.end))
        } catch (cause) {
          await handle.truncate(base).catch(() => {})
          uncount(batch)
          batch.reject(new JournalWriteError(fileOf(only.segment), { cause }))
          track()
          continue
        }
        writtenSizes.set(only.segment, base + (only.end - only.start))
        syncing.push({ batch, segment: only.segment, base, handle, done: handle.sync().then(() => undefined, (error: unknown) => error ?? new Error('sync failed')) })
        track()
        continue
      }
      if (syncing.length < maxSyncsInFlight) {
        // A slot is free: wake for whichever comes first, the oldest sync or the next turn's appends.
        const woken = new Promise<void>((resolve) => (wake = resolve))
        const landed = await Promise.race([syncing[0]!.done.then(() => true), woken.then(() => false)])
        wake = undefined
        if (!landed) continue
      }
      await settleOldest(syncing)
      track()
    }
    flushing = undefined
  }

  async function settleOldest(syncing: Syncing[]): Promise<void> {
    const oldest = syncing[0]!
    const error = await oldest.done
    if (error === undefined) {
      syncing.shift()
      oldest.batch.resolve()
      return
    }
    // Everything written after the failed batch goes with it: the file is cut back to where it began.
    const failed = syncing.splice(0)
    await Promise.all(failed.map(({ done }) => done))
    await oldest.handle.truncate(oldest.base).catch(() => {})
    writtenSizes.set(oldest.segment, oldest.base)
    for (const { batch, segment } of failed) {
      uncount(batch)
      batch.reject(new JournalWriteError(fileOf(segment), { cause: error }))
    }
  }

  function scheduleFlush(): void {
    if (flushing) {
      // The loop is running: it takes this turn's appends as one batch, on the next turn.
      if (!wakeScheduled) {
        wakeScheduled = true
        setImmediate(() => {
          wakeScheduled = false
          wake?.()
        })
      }
      return
    }
    if (flushScheduled) return
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
        writtenSizes.set(segment, size)
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
      writtenSizes.delete(segment)
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
