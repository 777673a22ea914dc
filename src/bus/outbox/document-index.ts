import type { Segment } from '../outbox/delivery-ledger.js'

/**
 * Where each document of one table lies in its module's journal, and nothing of its body: a table of a
 * million documents keeps the bodies on disk and reads one back when it is asked for.
 *
 * Per key: a slot in parallel typed arrays (segment, offset, size, seq, version, flags), found through one
 * Map from key to slot. Measured with bench (`documents: start-up`), that is about 120 bytes of heap a
 * document with 12-character keys: the key string and its Map entry are most of it. A JS object per
 * document would cost twice that.
 *
 * Liveness, as the delivery ledger keeps it for messages (compaction reads it from the segments' counts):
 * - a document's latest record is live (a home: it holds the data);
 * - a deletion is a tombstone, live only while an older record of the key is still on disk in another
 *   segment (`older`): without the tombstone a restart would bring that record back. Once the last such
 *   segment is deleted, the key is forgotten.
 */
export interface DocumentLocation {
  segment: number
  offset: number
  size: number
}

const tombstone = 1

/** Slots grow by doubling from this many. */
const initialSlots = 64

export class DocumentIndex {
  readonly #segmentOf: (number: number) => Segment
  readonly #slots = new Map<string, number>()
  #keys: (string | undefined)[] = []
  #segment = new Int32Array(initialSlots)
  #offset = new Float64Array(initialSlots)
  #size = new Int32Array(initialSlots)
  #seq = new Float64Array(initialSlots)
  #version = new Float64Array(initialSlots)
  #flags = new Uint8Array(initialSlots)
  #used = 0
  readonly #free: number[] = []
  /** Per slot, other segments still holding superseded records of its key (rare: kept apart). */
  readonly #older = new Map<number, number[]>()
  /** Slots in ascending `seq`; -1 marks a slot that left (a hole, skipped, squeezed out now and then). */
  #order = new Int32Array(initialSlots)
  #orderSeq = new Float64Array(initialSlots)
  #orderLength = 0
  #holes = 0
  #documents = 0
  /** Bumped at every change applied: a handler that read version v and finds another saw a change. */
  #changes = 0
  /** The next `seq` for a new key: one more than any seen. */
  nextSeq = 1

  constructor(segmentOf: (number: number) => Segment) {
    this.#segmentOf = segmentOf
  }

  /** Documents (not tombstones) in the table. */
  get size(): number {
    return this.#documents
  }

  /** The slot of a key with a live document, or -1 (absent or deleted). */
  documentSlot(key: string): number {
    const slot = this.#slots.get(key)
    return slot === undefined || this.#flags[slot]! & tombstone ? -1 : slot
  }

  /** Changes when the key's document changes (0: no document). */
  version(key: string): number {
    const slot = this.documentSlot(key)
    return slot === -1 ? 0 : this.#version[slot]!
  }

  keyOf(slot: number): string {
    return this.#keys[slot]!
  }

  location(slot: number): DocumentLocation {
    return { segment: this.#segment[slot]!, offset: this.#offset[slot]!, size: this.#size[slot]! }
  }

  seqOf(slot: number): number {
    return this.#seq[slot]!
  }

  isTombstone(slot: number): boolean {
    return (this.#flags[slot]! & tombstone) !== 0
  }

  /** A record that puts the key's document now lies synced at (segment, offset, size). */
  put(key: string, seq: number, segment: number, offset: number, size: number): void {
    let slot = this.#slots.get(key)
    if (slot === undefined) {
      slot = this.#allocate(key)
      this.#setSeq(slot, seq)
    } else {
      const from = this.#segment[slot]!
      const fromSegment = this.#segmentOf(from)
      if (this.#flags[slot]! & tombstone) {
        fromSegment.live--
        this.#flags[slot] = 0
      } else {
        fromSegment.live--
        fromSegment.liveHomes--
        fromSegment.liveDocs--
        this.#documents--
        if (from !== segment) this.#addOlder(slot, from)
      }
      if (this.#seq[slot] !== seq) {
        this.#unorder(slot)
        this.#setSeq(slot, seq)
      }
    }
    this.#documents++
    this.#place(slot, segment, offset, size, true)
    this.#version[slot] = ++this.#changes
    if (seq >= this.nextSeq) this.nextSeq = seq + 1
  }

  /** A record that deletes the key now lies synced at (segment, offset, size). */
  delete(key: string, segment: number, offset: number, size: number): void {
    const to = this.#segmentOf(segment)
    const slot = this.#slots.get(key)
    if (slot === undefined || this.#flags[slot]! & tombstone) {
      // Nothing to end here (replay: the key's earlier records are gone already): a dead record.
      to.roles++
      return
    }
    const from = this.#segment[slot]!
    const fromSegment = this.#segmentOf(from)
    fromSegment.live--
    fromSegment.liveHomes--
    fromSegment.liveDocs--
    this.#documents--
    this.#changes++
    if (from !== segment) this.#addOlder(slot, from)
    if (!this.#older.has(slot)) {
      to.roles++
      this.#release(slot)
      return
    }
    this.#flags[slot] = tombstone
    this.#place(slot, segment, offset, size, false)
  }

  /**
   * Compaction copied the slot's live record from `from` to (segment, offset, size); the copy is synced.
   * A newer record of the key may have been synced meanwhile (appended after the copy): then the copy is
   * only an older record, which a later deletion's tombstone must outlive.
   */
  carried(slot: number, from: number, segment: number, offset: number, size: number): void {
    if (this.#segment[slot] !== from) {
      this.#segmentOf(segment).roles++
      this.#addOlder(slot, segment)
      return
    }
    const isDocument = (this.#flags[slot]! & tombstone) === 0
    const fromSegment = this.#segmentOf(from)
    fromSegment.live--
    if (isDocument) {
      fromSegment.liveHomes--
      fromSegment.liveDocs--
    }
    this.#addOlder(slot, from)
    this.#place(slot, segment, offset, size, isDocument)
  }

  /** A segment's file is gone: tombstones that waited only for it are forgotten. */
  segmentDeleted(segment: number): void {
    for (const [slot, older] of this.#older) {
      const at = older.indexOf(segment)
      if (at === -1) continue
      older.splice(at, 1)
      if (older.length > 0) continue
      this.#older.delete(slot)
      if (this.#flags[slot]! & tombstone) {
        this.#segmentOf(this.#segment[slot]!).live--
        this.#release(slot)
      }
    }
  }

  /**
   * Slots whose live record lies in one of `segments` (documents and tombstones), by segment: one pass
   * over the table, a turn of the event loop every `chunk` slots (a million slots scanned at once held the
   * loop for tens of milliseconds).
   */
  async liveIn(segments: ReadonlySet<number>, chunk = 65_536): Promise<Map<number, number[]>> {
    const found = new Map<number, number[]>()
    for (let slot = 0; slot < this.#used; slot++) {
      if (slot % chunk === chunk - 1) await new Promise((resolve) => setImmediate(resolve))
      if (this.#keys[slot] === undefined || !segments.has(this.#segment[slot]!)) continue
      const segment = this.#segment[slot]!
      const slots = found.get(segment)
      if (slots) slots.push(slot)
      else found.set(segment, [slot])
    }
    return found
  }

  /**
   * Up to `limit` document slots in `seq` order (oldest first, or newest first), starting after the
   * document whose seq is `afterSeq` (undefined: from the start).
   */
  page(direction: 'oldest' | 'newest', afterSeq: number | undefined, limit: number): number[] {
    const slots: number[] = []
    const step = direction === 'oldest' ? 1 : -1
    let at: number
    if (afterSeq === undefined) at = direction === 'oldest' ? 0 : this.#orderLength - 1
    else {
      const first = this.#firstAtOrAfter(afterSeq)
      at = direction === 'oldest' ? (first < this.#orderLength && this.#orderSeq[first] === afterSeq ? first + 1 : first) : first - 1
    }
    for (; at >= 0 && at < this.#orderLength && slots.length < limit; at += step) {
      const slot = this.#order[at]!
      if (slot !== -1 && !(this.#flags[slot]! & tombstone)) slots.push(slot)
    }
    return slots
  }

  #place(slot: number, segment: number, offset: number, size: number, isDocument: boolean): void {
    const to = this.#segmentOf(segment)
    to.live++
    if (isDocument) {
      to.liveHomes++
      to.liveDocs++
    }
    to.roles++
    this.#segment[slot] = segment
    this.#offset[slot] = offset
    this.#size[slot] = size
  }

  #addOlder(slot: number, segment: number): void {
    const older = this.#older.get(slot)
    if (!older) this.#older.set(slot, [segment])
    else if (!older.includes(segment)) older.push(segment)
  }

  #allocate(key: string): number {
    let slot = this.#free.pop()
    if (slot === undefined) {
      if (this.#used === this.#segment.length) this.#grow()
      slot = this.#used++
    }
    this.#slots.set(key, slot)
    this.#keys[slot] = key
    this.#flags[slot] = 0
    return slot
  }

  #release(slot: number): void {
    this.#slots.delete(this.#keys[slot]!)
    this.#keys[slot] = undefined
    this.#older.delete(slot)
    this.#unorder(slot)
    this.#flags[slot] = 0
    this.#free.push(slot)
  }

  #grow(): void {
    const length = this.#segment.length * 2
    const grow = <T extends Int32Array | Float64Array | Uint8Array>(array: T, make: (n: number) => T): T => {
      const grown = make(length)
      grown.set(array)
      return grown
    }
    this.#segment = grow(this.#segment, (n) => new Int32Array(n))
    this.#offset = grow(this.#offset, (n) => new Float64Array(n))
    this.#size = grow(this.#size, (n) => new Int32Array(n))
    this.#seq = grow(this.#seq, (n) => new Float64Array(n))
    this.#version = grow(this.#version, (n) => new Float64Array(n))
    this.#flags = grow(this.#flags, (n) => new Uint8Array(n))
  }

  /** Puts the slot into the order; usually at the end (a new key has the highest seq). */
  #setSeq(slot: number, seq: number): void {
    this.#seq[slot] = seq
    if (this.#orderLength === this.#order.length) this.#squeezeOrGrowOrder()
    let at = this.#orderLength
    if (at > 0 && this.#orderSeq[at - 1]! > seq) {
      at = this.#firstAtOrAfter(seq)
      this.#order.copyWithin(at + 1, at, this.#orderLength)
      this.#orderSeq.copyWithin(at + 1, at, this.#orderLength)
    }
    this.#order[at] = slot
    this.#orderSeq[at] = seq
    this.#orderLength++
  }

  #unorder(slot: number): void {
    const seq = this.#seq[slot]!
    for (let at = this.#firstAtOrAfter(seq); at < this.#orderLength && this.#orderSeq[at] === seq; at++) {
      if (this.#order[at] === slot) {
        this.#order[at] = -1
        this.#holes++
        return
      }
    }
  }

  /** The first position whose seq is ≥ `seq`. */
  #firstAtOrAfter(seq: number): number {
    let low = 0
    let high = this.#orderLength
    while (low < high) {
      const middle = (low + high) >>> 1
      if (this.#orderSeq[middle]! < seq) low = middle + 1
      else high = middle
    }
    return low
  }

  #squeezeOrGrowOrder(): void {
    if (this.#holes * 2 > this.#orderLength) {
      let kept = 0
      for (let at = 0; at < this.#orderLength; at++) {
        if (this.#order[at] === -1) continue
        this.#order[kept] = this.#order[at]!
        this.#orderSeq[kept] = this.#orderSeq[at]!
        kept++
      }
      this.#orderLength = kept
      this.#holes = 0
      return
    }
    const order = new Int32Array(this.#order.length * 2)
    order.set(this.#order)
    const orderSeq = new Float64Array(this.#order.length * 2)
    orderSeq.set(this.#orderSeq)
    this.#order = order
    this.#orderSeq = orderSeq
  }
}
