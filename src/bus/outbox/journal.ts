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
  const files = new SegmentFiles(fs, dir)
  let closed = false

  const fileOf = (segment: number) => segmentFile(dir, segment)

  async function writeBatch(batch: PendingBatch): Promise<void> {
    for (const [index, { segment, start, end }] of batch.ranges.entries()) batch.bases[index] = await files.write(segment, batch.lines.bytes(start, end))
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
      const replayed = await replay(fs, dir, visit)
      for (const [segment, size] of replayed.sizes) {
        sizes.set(segment, size)
        files.replayed(segment, size)
      }
      const last = [...replayed.sizes.keys()].at(-1)
      if (last !== undefined) active = (sizes.get(last) ?? 0) < maxSegmentBytes ? last : last + 1
      if (!sizes.has(active)) sizes.set(active, 0)
      return replayed.tornTail ? { records: replayed.records, tornTail: replayed.tornTail } : { records: replayed.records }
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

    totalBytes: () => [...sizes.values()].reduce((total, size) => total + size, 0),

    async deleteSegment(segment) {
      if (segment >= active) throw new Error(`refusing to delete active segment ${segment} of ${dir}`)
      await files.closeIfOpen(segment)
      try {
        await fs.unlink(fileOf(segment))
      } catch (error) {
        // A segment that was never written has no file; gone is what we wanted.
        if (!isCode(error, 'ENOENT')) throw error
      }
      await fs.syncDir(dir)
      sizes.delete(segment)
      files.deleted(segment)
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
      await files.close()
    },
  }
  return journal
}

function segmentFile(dir: string, segment: number): string {
  return join(dir, segmentFileName(segment))
}

/** A batch the next write takes: its lines, and one promise every append in it shares. */
function newBatch(): PendingBatch {
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

/**
 * The segment files as written: each one's size on disk (synced), and the one file appends go to, open
 * (one at a time: appends only ever move to a higher segment).
 */
class SegmentFiles {
  #open: { segment: number; handle: AppendHandle } | undefined
  readonly #synced = new Map<number, number>()

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
  ) {}

  private async handleFor(segment: number): Promise<AppendHandle> {
    if (this.#open?.segment === segment) return this.#open.handle
    if (this.#open) await this.#open.handle.close()
    const handle = await this.fs.openAppend(segmentFile(this.dir, segment))
    // A new file's directory entry must be durable too, or a crash could lose the whole file.
    await this.fs.syncDir(this.dir)
    this.#open = { segment, handle }
    return handle
  }

  /** Appends `bytes` to the segment and syncs them; returns where they start. A failed write is cut off, so the next starts on a record boundary. */
  async write(segment: number, bytes: Uint8Array): Promise<number> {
    const handle = await this.handleFor(segment)
    const before = this.#synced.get(segment) ?? 0
    try {
      await handle.append(bytes)
      await handle.sync()
    } catch (cause) {
      await handle.truncate(before).catch(() => {})
      throw new JournalWriteError(segmentFile(this.dir, segment), { cause })
    }
    this.#synced.set(segment, before + bytes.length)
    return before
  }

  /** Replay found the segment with this many bytes. */
  replayed(segment: number, size: number): void {
    this.#synced.set(segment, size)
  }

  deleted(segment: number): void {
    this.#synced.delete(segment)
  }

  async closeIfOpen(segment: number): Promise<void> {
    if (this.#open?.segment !== segment) return
    await this.#open.handle.close()
    this.#open = undefined
  }

  async close(): Promise<void> {
    await this.#open?.handle.close()
    this.#open = undefined
  }
}

/**
 * Reads every segment of `dir` in order, each record to `visit`. A record cut short at the very end of the
 * last segment (a torn write) is dropped, the file truncated to it, and reported; any other bad record is
 * corruption: JournalCorruptError names the file and offset. Returns each segment's size as kept.
 */
async function replay(fs: FileSystem, dir: string, visit: RecordVisitor | undefined): Promise<{ records: number; tornTail?: TornTail; sizes: Map<number, number> }> {
  await fs.mkdir(dir)
  const segments = (await fs.readdir(dir))
    .map((name) => segmentFilePattern.exec(name)?.[1])
    .filter((digits): digits is string => digits !== undefined)
    .map(Number)
    .sort((a, b) => a - b)
  const sizes = new Map<number, number>()
  let records = 0
  let tornTail: TornTail | undefined
  // The next segment is read while this one is decoded.
  let reading = segments.length > 0 ? fs.readFile(segmentFile(dir, segments[0]!)) : undefined
  for (const [index, segment] of segments.entries()) {
    const file = segmentFile(dir, segment)
    const data = await reading!
    const following = segments[index + 1]
    reading = following === undefined ? undefined : fs.readFile(segmentFile(dir, following))
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
    sizes.set(segment, tornTail && isLast ? tornTail.offset : data.length)
  }
  return tornTail ? { records, tornTail, sizes } : { records, sizes }
}
