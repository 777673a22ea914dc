import type { Appended, Journal } from './journal.js'
import { destinationRoleLive, producerRoleLive, type DeliveryLedger, type LedgerEntry, type Segment } from './delivery-ledger.js'
import type { Envelope } from '../messages/envelope.js'
import type { JournalRecord } from './record.js'
import type { DocumentRole, ModuleData } from './module-data.js'

export interface Compactor {
  /** Asks for a pass soon; passes never overlap. Called when a journal starts a new segment. */
  request(): void
  /**
   * Asks for a pass if a segment was sealed since the last time: called when the bus goes quiet, since a
   * burst seals segments while their messages are still pending, and nothing else would come back for them.
   */
  requestIfSealedSince(): void
  /** Runs passes until nothing more can be removed right now. */
  runNow(): Promise<void>
  /** Resolves when no pass is running. */
  idle(): Promise<void>
  readonly stats: { segmentsDeleted: number; recordsCarried: number; passes: number }
}

export interface CompactorOptions {
  journals: ReadonlyMap<string, Journal>
  ledger: DeliveryLedger
  /** The record that carries a saga instance's role forward (its data, or that it completed). */
  sagaRecord: (state: LedgerEntry) => JournalRecord
  /** Per journal (module), its tables: their live documents are carried forward too. */
  documents?: ReadonlyMap<string, ModuleData>
  /** Reads back the messages a long queue keeps on disk only (they must be copied too). */
  readBack: (states: readonly LedgerEntry[]) => Promise<Map<LedgerEntry, Envelope>>
  /** The bus clock: consumed marks held for a broker's redeliveries are released when their time is up. */
  now: () => number
  onError: (error: unknown) => void
}

interface CarriedRole {
  state: LedgerEntry
  role: 'producer' | 'destination'
  from: Segment
}

/**
 * Keeps journals bounded: deletes sealed segments whose roles are all dead, and first carries the few
 * live records of a mostly-dead segment forward into the active one.
 *
 * Why carrying is needed at all: module A's segment may hold a consumed mark for a message B produced
 * while B's segment holds one for a message A produced; each waits for the other to go, forever.
 * Consumed marks are tiny, so they are always carried; records that hold a message are carried only
 * when at most half of the segment is still live, so a large backlog is never copied over and over.
 *
 * Deletions within a journal go in ascending order, so an older copy of a carried record is always
 * gone before the newer one (which a restart would otherwise not see as a duplicate).
 */
export function createCompactor(options: CompactorOptions): Compactor {
  const { journals, ledger, sagaRecord, readBack, now, onError } = options
  const documents = options.documents ?? new Map<string, ModuleData>()
  const stats = { segmentsDeleted: 0, recordsCarried: 0, passes: 0 }
  let running: Promise<void> | undefined
  let again = false
  /** The compactor's own appends roll segments too; those rolls ask for nothing new. */
  const appending = { now: false }
  const carrying: CarryContext = { ledger, stats, appending, sagaRecord, readBack, now }
  let sealedSinceQuiet = false

  async function pass(): Promise<boolean> {
    stats.passes++
    ledger.expireHolds(now())
    let progressed = false
    for (const [name, journal] of journals) {
      const sealed = new Set(journal.sealedSegments())
      const candidates = ledger.segments(name).filter((segment) => sealed.has(segment.number))
      for (const number of sealed) {
        // A sealed segment the ledger never heard of holds nothing live (e.g. only torn or dead records).
        if (!candidates.some((segment) => segment.number === number)) candidates.push(ledger.segment(name, number))
      }
      candidates.sort((a, b) => a.number - b.number)
      const roles: CarriedRole[] = []
      const data = documents.get(name)
      const docRoles: DocumentRole[] = []
      const worth = candidates.filter((segment) => segment.live > 0 && worthCarrying(segment))
      // Documents by segment, in one pass over the tables; a segment left out has a document being written.
      const docsBySegment = data && worth.length > 0 ? await data.liveIn(new Set(worth.map((segment) => segment.number))) : undefined
      for (const segment of worth) {
        const live = await liveRoles(segment)
        if (live.some(({ state }) => state.writing > 0)) continue
        const docs = docsBySegment ? docsBySegment.get(segment.number) : []
        if (!docs) continue
        roles.push(...live)
        docRoles.push(...docs)
      }
      if (data && docRoles.length > 0) progressed = (await carryDocuments(carrying, journal, data, docRoles)) || progressed
      if (roles.length > 0) progressed = (await carryRoles(carrying, journal, name, roles)) || progressed
      progressed = (await deleteDeadSegments(carrying, journal, data, candidates)) || progressed
    }
    return progressed
  }

  async function loop(): Promise<void> {
    try {
      do {
        again = false
        // Bounded: each pass either removes something or stops; three passes settle chains of marks.
        for (let i = 0; i < 3 && (await pass()); i++);
      } while (again)
    } catch (error) {
      onError(error)
    } finally {
      running = undefined
    }
  }

  function schedule(): void {
    if (running) {
      again = true
      return
    }
    // Started on a later tick: request() is called from inside journal.append(), even from a pass's own appends.
    running = Promise.resolve().then(loop)
  }

  return {
    stats,
    request() {
      if (appending.now) return
      sealedSinceQuiet = true
      schedule()
    },
    requestIfSealedSince() {
      if (!sealedSinceQuiet) return
      sealedSinceQuiet = false
      schedule()
    },
    async runNow() {
      while (running) await running
      running = Promise.resolve().then(loop)
      await running
    },
    async idle() {
      while (running) await running
    },
  }
}

/** What carrying records forward needs of the compactor. */
interface CarryContext {
  ledger: DeliveryLedger
  stats: Compactor['stats']
  /** Set while the compactor appends: the segments its own appends roll ask for no pass. */
  appending: { now: boolean }
  sagaRecord: CompactorOptions['sagaRecord']
  readBack: CompactorOptions['readBack']
  now: () => number
}

/** Copies live roles (messages, marks, saga instances) into the active segment, a chunk at a time. */
async function carryRoles(context: CarryContext, journal: Journal, name: string, roles: CarriedRole[]): Promise<boolean> {
  const { ledger, stats, appending, readBack, sagaRecord } = context
  const appended: { role: CarriedRole; append: Appended }[] = []
  for (let i = 0; i < roles.length; i += carryChunk) {
    // Encoding tens of thousands of copies at once blocked the event loop for 200 ms in a 100k
    // drain; chunks let HTTP and handlers run between them. Each role is checked again right before
    // its copy is appended, in the same synchronous step, so no newer record can slip in between.
    if (i > 0) await new Promise((resolve) => setImmediate(resolve))
    const chunk = roles.slice(i, i + carryChunk)
    // Kept in a map of its own, not put back on the delivery: the queue decides what stays in memory.
    const unloaded = chunk.filter(({ state, role }) => role === 'producer' && state.env === undefined).map(({ state }) => state)
    const readBackEnvs = unloaded.length > 0 ? await readBack(unloaded) : undefined
    appending.now = true
    try {
      for (const role of chunk) {
        if (!stillCarriable(role)) continue
        const env = role.state.env ?? readBackEnvs?.get(role.state)
        appended.push({ role, append: journal.append(role.state.kind === 'saga' || role.state.kind === 'saga-done' ? sagaRecord(role.state) : recordFor(role, env)) })
      }
    } finally {
      appending.now = false
    }
  }
  await Promise.all(appended.map(({ append }) => append.committed))
  // Appending may roll the journal mid-way, so each copy's segment is taken from its own append.
  for (const { role, append } of appended) ledger.carried(role.state, role.role, role.from, ledger.segment(name, append.segment), append.fileOffset(), append.size)
  stats.recordsCarried += appended.length
  return appended.length > 0
}

/** Copies live documents (and needed tombstones) into the active segment, a chunk at a time. */
async function carryDocuments(context: CarryContext, journal: Journal, data: ModuleData, roles: DocumentRole[]): Promise<boolean> {
  const { stats, appending, now } = context
  const appended: { role: DocumentRole; append: Appended }[] = []
  for (let i = 0; i < roles.length; i += carryChunk) {
    if (i > 0) await new Promise((resolve) => setImmediate(resolve))
    const chunk = roles.slice(i, i + carryChunk)
    const records = await Promise.all(chunk.map((role) => data.carryRecord(role, now())))
    appending.now = true
    try {
      chunk.forEach((role, at) => {
        const record = records[at]
        // Checked right before the append, in the same synchronous step: no newer write slips in between.
        if (record && data.stillCarriable(role)) appended.push({ role, append: journal.append(record) })
      })
    } finally {
      appending.now = false
    }
  }
  await Promise.all(appended.map(({ append }) => append.committed))
  for (const { role, append } of appended) data.carried(role, append.segment, append.fileOffset(), append.size)
  stats.recordsCarried += appended.length
  return appended.length > 0
}

/** Deletes the sealed segments no role holds any more (in ascending order) and forgets them. */
async function deleteDeadSegments(context: CarryContext, journal: Journal, data: ModuleData | undefined, candidates: readonly Segment[]): Promise<boolean> {
  let deleted = false
  for (const segment of candidates) {
    if (segment.live !== 0) continue
    await journal.deleteSegment(segment.number)
    data?.segmentDeleted(segment.number)
    // A segment can hold 100,000 deliveries: forget them in chunks, yielding between.
    const forgetting = context.ledger.deleted(segment, carryChunk)
    while (!forgetting.next().done) await new Promise((resolve) => setImmediate(resolve))
    context.stats.segmentsDeleted++
    deleted = true
  }
  return deleted
}

/**
 * Carry only where it frees something (some role is dead) and costs little (at most half the roles
 * hold a message). A segment made of copies is all live, so it is not copied again until part of it dies:
 * that is what keeps compaction from copying the same records round and round.
 *
 * A segment holding module documents waits until at most a third of its roles are live homes: a
 * document is read back from disk and decoded with its whole record to be carried, and a handler's
 * record of a new document is exactly half live (the document; its consumed mark dies). Carried at a
 * half, writing one document a message ran at 0.52-0.74x of writing none (in memory, 100 in flight);
 * at a third, 0.87-1.0x. The price is space: such a segment may keep up to two thirds of dead roles.
 */
function worthCarrying(segment: Segment): boolean {
  const share = segment.liveDocs > 0 ? 3 : 2
  return segment.live < segment.roles && segment.liveHomes * share <= segment.roles
}

/**
 * The live roles a segment holds. A segment can list 20,000 deliveries: they are looked at a chunk at a
 * time, with a turn of the event loop between (one scan measured 4 ms of blocked loop in a 100k drain).
 * A role found live may be dead by the time it is carried: `stillCarriable` looks again.
 */
async function liveRoles(segment: Segment): Promise<CarriedRole[]> {
  const roles: CarriedRole[] = []
  const seen = new Set<LedgerEntry>()
  let looked = 0
  for (const state of segment.deliveries) {
    if (++looked % scanChunk === 0) await new Promise((resolve) => setImmediate(resolve))
    if (seen.has(state)) continue
    seen.add(state)
    if (state.producer === segment && producerRoleLive(state)) roles.push({ state, role: 'producer', from: segment })
    if (state.destination === segment && destinationRoleLive(state)) roles.push({ state, role: 'destination', from: segment })
  }
  return roles
}

const carryChunk = 256
const scanChunk = 4_096

function stillCarriable({ state, role, from }: CarriedRole): boolean {
  if (state.writing > 0) return false
  return role === 'producer' ? state.producer === from && producerRoleLive(state) : state.destination === from && destinationRoleLive(state)
}

function recordFor({ state, role }: CarriedRole, producedEnv: Envelope | undefined): JournalRecord {
  // The copy keeps the original time: a restart orders queues by it.
  const t = state.since
  if (role === 'producer') {
    if (!producedEnv) throw new Error(`no message to carry for delivery ${state.id} to ${state.module}`)
    const entry = state.at === undefined ? { to: [state.module], env: producedEnv } : { to: [state.module], at: state.at, env: producedEnv }
    return { k: 'out', t, msgs: [entry] }
  }
  switch (state.kind) {
    case 'handled':
      return { k: 'handled', t, id: state.id, msgs: [] }
    case 'archived':
      return { k: 'archived', t, id: state.id }
    case 'forwarded':
      return { k: 'forwarded', t, sent: [{ id: state.id, to: [state.module] }] }
    case 'parked':
      return { k: 'parked', t, id: state.id }
    case 'delayed':
      return { k: 'delayed', t, id: state.id, at: state.at ?? t, env: state.env!, failures: state.failures ?? [] }
    case 'failed':
      return { k: 'failed', t, id: state.id, env: state.env!, failures: state.failures ?? [] }
    case 'retried':
      return { k: 'retried', t, id: state.id, env: state.env! }
    default:
      throw new Error(`cannot carry delivery ${state.id} for ${state.module} in state ${String(state.kind)}`)
  }
}
