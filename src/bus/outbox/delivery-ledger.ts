import type { Envelope } from '../messages/envelope.js'
import type { DeliveryState, DeliveryStatus } from '../delivery/delivery.js'

/**
 * What the journals on disk say about each delivery (message id, module), kept in memory so that
 * compaction knows which records are still needed and deduplication knows what was consumed.
 *
 * A delivery has two roles, each held by a journal segment:
 * - the producer role: the record that produced it (`out`, or `msgs` of `handled`). It is live while the
 *   destination has written nothing about the message: the message is still pending.
 * - the destination role: the module's last record about it. `delayed`, `failed` and `retried` are live
 *   (they hold the message). `handled` and `archived` are tombstones: live only while a producer record
 *   is still on disk, or an older record of the module about the same message is (a `retried` or
 *   `delayed` one), because without them a restart would deliver the message again.
 * A segment whose roles are all dead can be deleted.
 *
 * With a broker transport, `forwarded` (the broker confirmed it took the message) is a tombstone like
 * `handled`, written in the producer's journal; it never overrides the module's own records. A consumed
 * mark of a message that came from the broker stays live until `keepUntil`, so a redelivery (an ack
 * lost with a crash or a dropped connection) is still recognised after a restart.
 *
 * A saga instance is tracked the same way, under its saga key (see sagas/saga-store.ts) and with no
 * producer: `saga` (its latest data) holds it like a home; `saga-done` is a tombstone, live while an
 * older record of the instance is still on disk.
 */
export type DestinationKind = DeliveryStatus | 'saga' | 'saga-done'

export interface Segment {
  readonly journal: string
  readonly number: number
  /** Live roles held here. */
  live: number
  /** Live roles that hold a message (not tombstones): what makes carrying a segment forward expensive. */
  liveHomes: number
  /** Of those, module documents (see document-index.ts): carrying one means reading it back. */
  liveDocs: number
  /** Roles ever placed here. */
  roles: number
  /** Deliveries with a role here; may hold stale entries, check `producer`/`destination` before use. */
  readonly deliveries: LedgerEntry[]
}

/**
 * What the ledger keeps of a delivery (or of a saga instance, under its saga key): the bus's facts of the
 * delivery and where the journal holds them. The same object is the DeliveryState the bus sees.
 */
export interface LedgerEntry extends Omit<DeliveryState, 'kind'> {
  producer: Segment | undefined
  destination: Segment | undefined
  /** Segments still holding older, superseded records of the module about this message. */
  older: Segment[]
  /** The module's last record about it: a delivery's status, or a saga instance's (`saga`, `saga-done`). */
  kind: DestinationKind | undefined
  /** Where the producer record lies in the `producer` segment's file: byte offset and size (-1: unknown). */
  offset: number
  size: number
  /** Destination records appended but not yet synced; compaction leaves such deliveries alone. */
  writing: number
  /** For a message received from a broker: its consumed mark stays live until this time (ms); 0 = no hold. */
  keepUntil: number
}

/** A message's entry (never a saga instance's) as the bus sees it: the same object. */
export function asDelivery(entry: LedgerEntry): DeliveryState {
  return entry as DeliveryState
}

/** Entries of messages as the bus sees them (see asDelivery). */
export function asDeliveries(entries: LedgerEntry[]): DeliveryState[] {
  return entries as DeliveryState[]
}

/** A delivery the bus hands back to the journal: every DeliveryState the journal gives out is its ledger's entry. */
export function entryOf(delivery: DeliveryState): LedgerEntry {
  return delivery as LedgerEntry
}

export interface DeliveryLedger {
  segment(journal: string, number: number): Segment
  /**
   * A producer record for (id, module) is now on disk in `segment`. `env` is the message, or undefined
   * when it stays on disk (replay) and is read back from `offset` when needed.
   */
  produced(segment: Segment, id: string, env: Envelope | undefined, module: string, at: number | undefined, since: number, offset: number, size: number): LedgerEntry
  /**
   * Module `module`'s journal now holds a `kind` record about `id` in `segment`. `known` is the delivery's
   * state when the caller holds it (a commit about the delivery it handled): taken as it is, without a
   * lookup by id. (With a million deliveries waiting, that lookup is a cache miss for each: skipping it
   * drained a million queued messages 20% faster.) A state stays in the ledger while a record about it
   * is being written, so a held one is the ledger's own.
   */
  recorded(segment: Segment, id: string, module: string, kind: DestinationKind, since: number, details?: Partial<Pick<LedgerEntry, 'env' | 'at' | 'failures' | 'keepUntil'>>, known?: LedgerEntry): LedgerEntry
  /**
   * A message a broker delivered to `module`: known from now on (not from a record here), with the message
   * as delivered (a retry or a delayed round carries newer headers); `forget` undoes it.
   */
  received(env: Envelope, module: string, since: number): LedgerEntry
  /** Drops a received delivery that nothing on disk holds (its outcome was never written). */
  forget(state: LedgerEntry): void
  /** Ends the holds (`keepUntil`) that are over by `now`. */
  expireHolds(now: number): void
  /** Compaction wrote a copy of a role into `to` at `offset` (`size` bytes); the copy is synced. */
  carried(state: LedgerEntry, role: 'producer' | 'destination', from: Segment, to: Segment, offset: number, size: number): void
  /**
   * A segment's file was deleted (and the deletion synced). Works through the segment's deliveries
   * `chunk` at a time, one per `next()`, so a caller can yield to the event loop between chunks.
   */
  deleted(segment: Segment, chunk?: number): Iterator<void>
  get(id: string, module: string): LedgerEntry | undefined
  all(): IterableIterator<LedgerEntry>
  segments(journal: string): Segment[]
  /** Number of deliveries tracked (for memory tests). */
  size(): number
}

/** Shared by every delivery that has no older records (most of them): one array less per delivery. */
const noOlder: Segment[] = []

function isHome(kind: DestinationKind | undefined): boolean {
  return kind === 'delayed' || kind === 'failed' || kind === 'retried' || kind === 'saga'
}

export function producerRoleLive(state: LedgerEntry): boolean {
  return state.producer !== undefined && state.kind === undefined
}

export function destinationRoleLive(state: LedgerEntry): boolean {
  return state.destination !== undefined && (isHome(state.kind) || state.producer !== undefined || state.older.length > 0 || state.keepUntil > 0)
}

function addOlder(state: LedgerEntry, segment: Segment): void {
  if (state.older === noOlder) state.older = [segment]
  else state.older.push(segment)
}

export function createDeliveryLedger(): DeliveryLedger {
  return new Ledger()
}

const liveProducer = (state: LedgerEntry) => (producerRoleLive(state) ? state.producer : undefined)
const liveDestination = (state: LedgerEntry) => (destinationRoleLive(state) ? state.destination : undefined)

/**
 * After a delivery changed, with what its live roles were before: moves the segments' live counts to match,
 * and drops the message once no live role needs it. Returns whether anything still holds the delivery.
 * (Plain arguments, not a callback: this runs several times per message.)
 */
function moveLiveCounts(state: LedgerEntry, producerBefore: Segment | undefined, destinationBefore: Segment | undefined, destinationWasHome: boolean): boolean {
  const producerAfter = liveProducer(state)
  const destinationAfter = liveDestination(state)
  if (producerBefore) {
    producerBefore.live--
    producerBefore.liveHomes--
  }
  if (destinationBefore) {
    destinationBefore.live--
    if (destinationWasHome) destinationBefore.liveHomes--
  }
  if (producerAfter) {
    producerAfter.live++
    producerAfter.liveHomes++
  }
  if (destinationAfter) {
    destinationAfter.live++
    if (isHome(state.kind)) destinationAfter.liveHomes++
  }
  // A tombstone (handled, archived, forwarded) needs no message: only a pending delivery or a home does.
  if (!producerAfter && !isHome(state.kind) && state.settled === undefined) {
    state.env = undefined
    state.failures = undefined
  }
  return producerAfter !== undefined || destinationAfter !== undefined || state.producer !== undefined
}

/** The ledger of the journal files: per module then message id, no key string built per lookup. */
class Ledger implements DeliveryLedger {
  readonly #statesByModule = new Map<string, Map<string, LedgerEntry>>()
  readonly #segmentsByJournal = new Map<string, Map<number, Segment>>()
  #count = 0
  /** Deliveries with a hold, roughly in order of `keepUntil` (records are written in time order). */
  #holds: LedgerEntry[] = []
  #holdsHead = 0

  segment(journal: string, number: number): Segment {
    let byNumber = this.#segmentsByJournal.get(journal)
    if (!byNumber) this.#segmentsByJournal.set(journal, (byNumber = new Map()))
    let found = byNumber.get(number)
    if (!found) byNumber.set(number, (found = { journal, number, live: 0, liveHomes: 0, liveDocs: 0, roles: 0, deliveries: [] }))
    return found
  }

  /** moveLiveCounts, then forgets the delivery once nothing holds it; returns whether it is still tracked. */
  #settle(state: LedgerEntry, producerBefore: Segment | undefined, destinationBefore: Segment | undefined, destinationWasHome: boolean): boolean {
    if (moveLiveCounts(state, producerBefore, destinationBefore, destinationWasHome)) return true
    if (this.#statesByModule.get(state.module)?.delete(state.id)) {
      this.#count--
      return false
    }
    return true
  }

  #stateFor(id: string, module: string): LedgerEntry {
    let states = this.#statesByModule.get(module)
    if (!states) this.#statesByModule.set(module, (states = new Map()))
    let state = states.get(id)
    if (!state) {
      state = { id, module, producer: undefined, destination: undefined, older: noOlder, kind: undefined, env: undefined, offset: -1, size: 0, at: undefined, failures: undefined, since: 0, writing: 0, keepUntil: 0, settled: undefined }
      states.set(id, state)
      this.#count++
    }
    return state
  }

  produced(where: Segment, id: string, env: Envelope | undefined, module: string, at: number | undefined, since: number, offset: number, size: number): LedgerEntry {
    const state = this.#stateFor(id, module)
    const producerBefore = liveProducer(state)
    const destinationBefore = liveDestination(state)
    const wasHome = isHome(state.kind)
    // A later copy (compaction carried it forward) supersedes an earlier one.
    if (!state.producer || state.producer.journal !== where.journal || state.producer.number < where.number || (state.producer === where && state.offset <= offset)) {
      state.producer = where
      state.offset = offset
      state.size = size
    }
    if (state.kind === undefined) {
      state.env = env
      state.at = at
      state.since = since
    }
    this.#settle(state, producerBefore, destinationBefore, wasHome)
    where.roles++
    where.deliveries.push(state)
    return state
  }

  recorded(where: Segment, id: string, module: string, kind: DestinationKind, since: number, details?: Partial<Pick<LedgerEntry, 'env' | 'at' | 'failures' | 'keepUntil'>>, known?: LedgerEntry): LedgerEntry {
    const state = known !== undefined && known.id === id && known.module === module ? known : this.#stateFor(id, module)
    const producerBefore = liveProducer(state)
    const destinationBefore = liveDestination(state)
    const wasHome = isHome(state.kind)
    if (kind === 'forwarded' && state.kind !== undefined && state.kind !== 'forwarded') {
      // The module's own record says more than "the broker has it": the mark is only an older record.
      if (state.destination !== where && !state.older.includes(where)) addOlder(state, where)
      this.#settle(state, producerBefore, destinationBefore, wasHome)
      where.roles++
      where.deliveries.push(state)
      return state
    }
    if (details?.keepUntil !== undefined && details.keepUntil > state.keepUntil) {
      state.keepUntil = details.keepUntil
      this.#holds.push(state)
    }
    // A superseded record in the same segment goes when the segment goes: nothing to track.
    if (state.destination && state.destination !== where && !state.older.includes(state.destination)) addOlder(state, state.destination)
    state.destination = where
    state.kind = kind
    if (isHome(kind)) {
      if (details?.env) state.env = details.env
      state.at = details?.at
      state.failures = details?.failures
      state.since = since
    }
    where.roles++
    // A delivery forgotten at once (a consumed mark whose message's record is gone: replay of a relayed
    // backlog makes 100,000 of them) is not listed: the list would keep it in memory until the segment goes.
    if (this.#settle(state, producerBefore, destinationBefore, wasHome)) where.deliveries.push(state)
    return state
  }

  carried(state: LedgerEntry, role: 'producer' | 'destination', from: Segment, to: Segment, offset: number, size: number): void {
    if (role === 'producer' && state.producer !== from) return
    const producerBefore = liveProducer(state)
    const destinationBefore = liveDestination(state)
    const wasHome = isHome(state.kind)
    if (role === 'producer') {
      state.producer = to
      state.offset = offset
      state.size = size
    } else if (state.destination === from) {
      addOlder(state, from)
      state.destination = to
    } else {
      // A newer record (appended after the copy) took over meanwhile: the copy is an older record now.
      addOlder(state, to)
    }
    this.#settle(state, producerBefore, destinationBefore, wasHome)
    to.roles++
    to.deliveries.push(state)
  }

  *deleted(where: Segment, chunk = Number.POSITIVE_INFINITY): Iterator<void> {
    let done = 0
    for (const state of where.deliveries) {
      if (state.producer === where) {
        const producerBefore = liveProducer(state)
        const destinationBefore = liveDestination(state)
        state.producer = undefined
        this.#settle(state, producerBefore, destinationBefore, isHome(state.kind))
      }
      if (state.destination === where) {
        const producerBefore = liveProducer(state)
        const destinationBefore = liveDestination(state)
        state.destination = undefined
        this.#settle(state, producerBefore, destinationBefore, isHome(state.kind))
      }
      if (state.older.includes(where)) {
        const producerBefore = liveProducer(state)
        const destinationBefore = liveDestination(state)
        const remaining = state.older.filter((segment) => segment !== where)
        state.older = remaining.length === 0 ? noOlder : remaining
        this.#settle(state, producerBefore, destinationBefore, isHome(state.kind))
      }
      if (++done % chunk === 0) yield
    }
    this.#segmentsByJournal.get(where.journal)?.delete(where.number)
  }

  received(env: Envelope, module: string, since: number): LedgerEntry {
    const state = this.#stateFor(env.id, module)
    state.env = env
    if (state.kind === undefined && state.producer === undefined) state.since = since
    return state
  }

  forget(state: LedgerEntry): void {
    if (state.producer === undefined && state.destination === undefined && state.older.length === 0 && this.#statesByModule.get(state.module)?.delete(state.id)) this.#count--
  }

  expireHolds(now: number): void {
    const holds = this.#holds
    while (this.#holdsHead < holds.length && holds[this.#holdsHead]!.keepUntil <= now) {
      const state = holds[this.#holdsHead++]!
      if (state.keepUntil === 0) continue
      const producerBefore = liveProducer(state)
      const destinationBefore = liveDestination(state)
      state.keepUntil = 0
      this.#settle(state, producerBefore, destinationBefore, isHome(state.kind))
    }
    if (this.#holdsHead > 1024 && this.#holdsHead * 2 > holds.length) {
      holds.splice(0, this.#holdsHead)
      this.#holdsHead = 0
    }
  }

  get(id: string, module: string): LedgerEntry | undefined {
    return this.#statesByModule.get(module)?.get(id)
  }

  *all(): IterableIterator<LedgerEntry> {
    for (const states of this.#statesByModule.values()) yield* states.values()
  }

  segments(journal: string): Segment[] {
    return [...(this.#segmentsByJournal.get(journal)?.values() ?? [])].sort((a, b) => a.number - b.number)
  }

  size(): number {
    return this.#count
  }
}
