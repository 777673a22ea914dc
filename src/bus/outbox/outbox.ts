import { join } from 'node:path'
import type { Clock } from '../clock.js'
import type { Envelope } from '../messages/envelope.js'
import { OutsideOrigin } from '../messages/headers.js'
import { createCompactor, type Compactor } from './compaction.js'
import { asDeliveries, asDelivery, createDeliveryLedger, entryOf, type DeliveryLedger, type LedgerEntry } from './delivery-ledger.js'
import type { FileSystem } from '../files/file-system.js'
import { canReadBack, readEnvelopes, type EnvelopeReaderOptions } from './envelope-reader.js'
import { createJournal, segmentFileName, type Journal, type RecordVisitor, type TornTail } from './journal.js'
import { acquireDataDirLock, type DataDirLock } from './lock-file.js'
import { holdsData, type JournalRecord } from './record.js'
import { outcomeRecord } from './outcome-records.js'
import { LedgerRecords } from './ledger-records.js'
import { sagaKey, SagaStore } from '../sagas/saga-store.js'
import type { TableDefinition } from '../data/define-table.js'
import { ModuleData } from './module-data.js'
import type { Reservation, TableState } from '../data/module-tables.js'
import { createTableReader } from '../data/table.js'
import { TransactionUnsupportedError } from '../errors.js'
import type { StepOutcome } from '../audit/conversation-step.js'
import { auditedStep, type AuditedStep, type StepExtras } from '../audit/audited-step.js'
import type { Outcome, Persistence, Recovered } from '../persistence/persistence.js'
import type { DeliveryState, OutgoingEntry } from '../delivery/delivery.js'
import type { ConversationStep } from '../audit/conversation-step.js'
import type { TableReader } from '../data/table.js'

/** The journal of messages sent from outside any handler (HTTP routes, scripts). */
export const outsideJournal = `_${OutsideOrigin}`

export interface OutboxOptions {
  fs: FileSystem
  dataDir: string
  modules: readonly string[]
  /** Per module, the tables it declares (defineModule({ tables })). */
  tables?: ReadonlyMap<string, readonly TableDefinition[]>
  /** Keep every module's audit of conversations (see audit/). @default false */
  audit?: boolean
  maxSegmentBytes: number
  /** false keeps every record (audits, crash tests that count records). */
  compaction: boolean
  clock: Clock
  /**
   * With a broker transport: how long a consumed mark stays on disk after the message was handled, so a
   * redelivery (its ack lost) is recognised. 0 (the embedded transport) keeps no hold.
   */
  holdConsumedMs: number
  onError: (error: unknown, during: string) => void
}

export type { Recovered } from '../persistence/persistence.js'

/**
 * The journal files' persistence: a journal per module (and `_outside`), their segments and compaction,
 * behind the Persistence interface the rest of the bus uses (src/bus/persistence/persistence.ts).
 */
export type Outbox = Persistence & {
  readonly ledger: DeliveryLedger
  readonly compactor: Compactor
}

export function createOutbox(options: OutboxOptions): Outbox {
  const files = new JournalFiles(options)
  // An object of plain functions, as every persistence is: a wrapper may spread it (a class's methods would not come along).
  return {
    ledger: files.ledger,
    compactor: files.compactor,
    maintenance: files.compactor,
    sagas: files.sagas,
    data: (module) => files.data(module),
    readBack: (deliveries) => files.readBack(deliveries.map(entryOf)) as Promise<Map<DeliveryState, Envelope>>,
    canReadBack: (delivery) => canReadBack(entryOf(delivery)),
    open: () => files.open(),
    commitOutside: (msgs, transaction) => (transaction !== undefined ? Promise.reject(new TransactionUnsupportedError()) : (files.commitOutside(msgs) as Promise<DeliveryState[]>)),
    // Its entries are the deliveries the bus sees (see asDeliveries): the same promise, no extra turn.
    commit: (module, delivery, outcome) => files.commit(module, entryOf(delivery), outcome) as Promise<DeliveryState[]>,
    forwarded: (deliveries) => files.forwarded(deliveries.map(entryOf)),
    deliveryOf(id, module) {
      const entry = files.ledger.get(id, module)
      return entry && asDelivery(entry)
    },
    received: (env, module, now) => asDelivery(files.ledger.received(env, module, now)),
    // Journal files share no transaction with a transport: its row, if it has one, is the transport's to delete.
    consumedAtSource: () => false,
    forget: (delivery) => files.ledger.forget(entryOf(delivery)),
    holdsDataOf: (module) => options.modules.includes(module),
    tableReader: (module, definition) => files.tableReader(module, definition),
    conversation: (modules, conversationId) => files.conversation(modules, conversationId),
    commitDeletes: (module, table, keys) => files.commitDeletes(module, table, keys),
    totalBytes: () => files.totalBytes(),
    flushed: () => files.flushed(),
    close: () => files.close(),
  }
}

/** The journal files themselves: a journal per module (and `_outside`), each module's archive and tables, the ledger, compaction. */
class JournalFiles {
  readonly ledger: DeliveryLedger = createDeliveryLedger()
  readonly sagas = new SagaStore()
  readonly compactor: Compactor
  readonly #options: OutboxOptions
  readonly #records: LedgerRecords
  readonly #journals = new Map<string, Journal>()
  readonly #archives = new Map<string, Journal>()
  readonly #data = new Map<string, ModuleData>()
  readonly #reader: EnvelopeReaderOptions
  // Made here, not in open(): a closure made there would keep open()'s scope, and replay's list of
  // records in it (~160 B a replayed consumed mark), alive for as long as the bus runs.
  readonly #requestCompaction: () => void
  #lock: DataDirLock | undefined

  constructor(options: OutboxOptions) {
    const { fs, dataDir, clock } = options
    this.#options = options
    this.#records = new LedgerRecords(this.ledger, this.sagas, options.holdConsumedMs, clock)
    for (const name of [outsideJournal, ...options.modules]) this.#journals.set(name, createJournal({ fs, dir: join(dataDir, name), maxSegmentBytes: options.maxSegmentBytes }))
    for (const name of options.modules) this.#archives.set(name, createJournal({ fs, dir: join(dataDir, name, 'archive'), maxSegmentBytes: options.maxSegmentBytes }))
    for (const name of options.modules) {
      const tables = options.tables?.get(name) ?? []
      if (tables.length === 0 && !options.audit) continue
      const dir = join(dataDir, name)
      this.#data.set(name, new ModuleData({ module: name, tables, audit: options.audit === true, fs, fileOf: (segment) => join(dir, segmentFileName(segment)), segmentOf: (segment) => this.ledger.segment(name, segment) }))
    }
    this.#reader = { fs, fileOf: (segment) => join(this.#journalFor(segment.journal).dir, segmentFileName(segment.number)) }
    const sagaRecord = (state: LedgerEntry) => this.#records.sagaRecord(state)
    this.compactor = createCompactor({ journals: this.#journals, ledger: this.ledger, sagaRecord, readBack: (states) => this.readBack(states), documents: this.#data, now: () => clock.now(), onError: (error) => options.onError(error, 'compaction') })
    this.#requestCompaction = () => this.compactor.request()
  }

  data(module: string): ModuleData | undefined {
    return this.#data.get(module)
  }

  readBack(states: readonly LedgerEntry[]): Promise<Map<LedgerEntry, Envelope>> {
    return readEnvelopes(this.#reader, states)
  }

  async open(): Promise<Recovered> {
    const options = this.#options
    const lock = (this.#lock = await acquireDataDirLock(options.fs, options.dataDir))
    const tornTails: TornTail[] = []
    // Producer roles are applied while reading; destination records wait until every journal is
    // read, so a consumed mark always finds what it consumed. Only those are kept in memory.
    const destinations: KeptDestination[] = []
    let records = 0
    try {
      for (const [name, journal] of this.#journals) {
        const result = await journal.open(replayVisitor(name, this.#data.get(name), this.ledger, this.#records, destinations))
        records += result.records
        if (result.tornTail) tornTails.push(result.tornTail)
        if (options.compaction) journal.onRoll = this.#requestCompaction
      }
      for (const archive of this.#archives.values()) {
        const result = await archive.open()
        if (result.tornTail) tornTails.push(result.tornTail)
      }
    } catch (error) {
      await lock.release()
      throw error
    }
    for (const { name, segment, record } of destinations) this.#records.applyDestination(name, segment, record)
    const { queued, delayed, failed, elsewhere, orphaned } = recoveredFrom(this.ledger, options.modules, options.clock.now())
    return { queued: queued as Map<string, DeliveryState[]>, delayed: asDeliveries(delayed), failed: asDeliveries(failed), elsewhere: asDeliveries(elsewhere), orphaned, tornTails, records }
  }

  commitOutside(msgs: OutgoingEntry[]): Promise<LedgerEntry[]> {
    return this.#commit(outsideJournal, { k: 'out', t: this.#options.clock.now(), msgs })
  }

  tableReader(module: string, definition: TableDefinition): TableReader<unknown> | undefined {
    const data = this.#data.get(module)
    return data ? createTableReader(data, definition) : undefined
  }

  async conversation(modules: readonly string[], conversationId: string): Promise<ConversationStep[]> {
    const steps = await Promise.all(modules.map((module) => this.#data.get(module)?.auditSteps(conversationId) ?? []))
    return steps.flat()
  }

  /** One delivery's outcome as its module's journal records it (not async: the hot path, handled, adds no promise of its own). */
  commit(module: string, state: LedgerEntry, outcome: Outcome): Promise<LedgerEntry[]> {
    if (outcome.kind === 'archived') return this.#archive(module, state)
    const { record, step } = outcomeRecord(state.id, state.env, outcome, this.#options.clock.now())
    return this.#commit(module, record, state, outcome.kind === 'handled' ? outcome.data : undefined, step && this.#stepOf(module, step.env, step.outcome, step.extras))
  }

  /** One `forwarded` record in each journal that produced some of them. */
  async forwarded(states: readonly LedgerEntry[]): Promise<void> {
    const byJournal = new Map<string, LedgerEntry[]>()
    for (const state of states) {
      const journal = state.producer?.journal
      if (!journal) continue
      const list = byJournal.get(journal)
      if (list) list.push(state)
      else byJournal.set(journal, [state])
    }
    await Promise.all([...byJournal].map(([journal, list]) => this.#commitForwardedIn(journal, list)))
  }

  /** The bus's own deletions of documents (the audit's retention), skipping keys being written. */
  async commitDeletes(module: string, table: TableState, keys: readonly string[]): Promise<number> {
    const data = this.#data.get(module)
    const claim = data?.claimDeletes(table, keys)
    if (!data || !claim) return 0
    try {
      const appended = claim.changes.map((change) => ({ change, append: this.#journalFor(module).append({ k: 'doc', t: this.#options.clock.now(), ...change } as JournalRecord) }))
      await Promise.all(appended.map(({ append }) => append.committed))
      for (const { change, append } of appended) data.apply(append.segment, [change], append.fileOffset(), append.size)
      return appended.length
    } finally {
      claim.settle()
    }
  }

  totalBytes(): number {
    let total = 0
    for (const journal of this.#journals.values()) total += journal.totalBytes()
    return total
  }

  async flushed(): Promise<void> {
    await Promise.all([...this.#journals.values(), ...this.#archives.values()].map((journal) => journal.flushed()))
  }

  async close(): Promise<void> {
    await this.compactor.idle()
    await Promise.all([...this.#journals.values(), ...this.#archives.values()].map((journal) => journal.close()))
    this.#options.fs.closeReads?.()
    await this.#lock?.release()
    this.#lock = undefined
  }

  #journalFor(name: string): Journal {
    const journal = this.#journals.get(name)
    if (!journal) throw new Error(`no journal named '${name}'`)
    return journal
  }

  /** Appends, waits for the fsync, then tells the ledger: nothing is known (or dispatched) before it is durable. */
  async #commit(journal: string, record: JournalRecord, state?: LedgerEntry, data?: Reservation, audited?: AuditedStep): Promise<LedgerEntry[]> {
    // Compaction leaves alone whatever has a record on its way to disk (documents: their reservation).
    const writing = record.k === 'handled' && record.sagas ? record.sagas.map((change) => this.ledger.get(sagaKey(change.saga, change.id), journal)) : undefined
    if (state) state.writing++
    if (writing) for (const saga of writing) if (saga) saga.writing++
    let audit: Reservation | undefined
    try {
      const moduleData = this.#data.get(journal)
      audit = await claimAudit(moduleData, journal, audited, this.#options.onError)
      const changes = audit && audit.changes.length > 0 ? [...(data?.changes ?? []), ...audit.changes] : data?.changes
      if (changes && holdsData(record)) record.data = changes
      const appended = this.#journalFor(journal).append(record)
      await appended.committed
      this.#records.applyDestination(journal, appended.segment, record, state)
      if (changes) moduleData?.apply(appended.segment, changes, appended.fileOffset(), appended.size)
      return this.#records.applyProduced(journal, appended.segment, record, appended.fileOffset(), appended.size)
    } finally {
      if (state) state.writing--
      if (writing) for (const saga of writing) if (saga) saga.writing--
      data?.settle()
      audit?.settle()
    }
  }

  /** The audit step a record about `env` at `module` stands for. */
  #stepOf(module: string, env: Envelope | undefined, outcome: StepOutcome, extra?: StepExtras): AuditedStep | undefined {
    return env && this.#options.audit ? auditedStep(module, env, outcome, this.#options.clock.now(), extra) : undefined
  }

  /** The broker confirmed these messages, produced by `journal`: one `forwarded` record there. */
  async #commitForwardedIn(journal: string, states: readonly LedgerEntry[]): Promise<void> {
    for (const state of states) state.writing++
    try {
      await this.#commit(journal, forwardedRecord(states, this.#options.clock.now()))
    } finally {
      for (const state of states) state.writing--
    }
  }

  /** A failed message a person deletes: kept apart for people, then marked archived. */
  async #archive(module: string, state: LedgerEntry): Promise<LedgerEntry[]> {
    await keepForPeople(this.#archives.get(module), module, state, this.#options.clock.now())
    return this.#commit(module, { k: 'archived', t: this.#options.clock.now(), id: state.id }, state, undefined, this.#stepOf(module, state.env, 'archived'))
  }
}

/** A replayed record that says something about a delivery, kept until every journal is read. */
interface KeptDestination {
  name: string
  segment: number
  record: JournalRecord
}

/**
 * What replay does with each record of journal `name`: producer roles at once (the messages stay on disk),
 * documents at once (only where each lies is kept), and the rest kept in `destinations` for after every
 * journal is read, so a consumed mark always finds what it consumed.
 */
function replayVisitor(name: string, data: ModuleData | undefined, ledger: DeliveryLedger, records: LedgerRecords, destinations: KeptDestination[]): RecordVisitor {
  return (segment, record, offset, size) => {
    records.replayProduced(name, segment, record, offset, size)
    if (record.k === 'out' || record.k === 'out-skimmed') return
    if (record.k === 'doc') {
      if (data) data.apply(segment, [record], offset, size, false)
      else ledger.segment(name, segment).roles++
      return
    }
    const changes = holdsData(record) ? record.data : undefined
    if (changes) {
      if (data) data.apply(segment, changes, offset, size, false)
      else ledger.segment(name, segment).roles++
    }
    // Kept without the messages a `handled` record produced, which the deliveries above already account
    // for, or the documents (either could outweigh the heap).
    let kept: JournalRecord = record
    if (record.k === 'handled' && (record.msgs.length > 0 || record.data)) kept = record.sagas ? { k: 'handled', t: record.t, id: record.id, msgs: [], sagas: record.sagas } : { k: 'handled', t: record.t, id: record.id, msgs: [] }
    else if (changes) kept = { ...record, data: undefined } as JournalRecord
    destinations.push({ name, segment, record: kept })
  }
}

/**
 * What replay left in the ledger, sorted for the bus: per module the deliveries ready to handle, oldest
 * first; those waiting for a time; the failed; pending deliveries for modules run elsewhere; and how many
 * of the others' records this process keeps but cannot act on.
 */
function recoveredFrom(ledger: DeliveryLedger, modules: readonly string[], now: number) {
  const queued = new Map<string, LedgerEntry[]>(modules.map((module) => [module, []]))
  const delayed: LedgerEntry[] = []
  const failed: LedgerEntry[] = []
  const elsewhere: LedgerEntry[] = []
  let orphaned = 0
  for (const state of ledger.all()) {
    const queue = queued.get(state.module)
    if (!queue) {
      if (state.kind === undefined && state.producer) {
        if (state.at !== undefined && state.at > now) delayed.push(state)
        else elsewhere.push(state)
      } else if (state.kind === 'delayed' || state.kind === 'retried' || state.kind === 'failed') orphaned++
      continue
    }
    if (state.kind === undefined && state.producer) {
      if (state.at !== undefined && state.at > now) delayed.push(state)
      else queue.push(state)
    } else if (state.kind === 'retried') queue.push(state)
    else if (state.kind === 'delayed') delayed.push(state)
    else if (state.kind === 'failed') failed.push(state)
  }
  for (const queue of queued.values()) queue.sort((a, b) => a.since - b.since)
  elsewhere.sort((a, b) => a.since - b.since)
  return { queued, delayed, failed, elsewhere, orphaned }
}

/**
 * Claims the module's audit document of the record's conversation, with the step it describes, right
 * before the append (see ModuleData.claimAuditStep): reads it back first when it is on disk only.
 */
async function claimAudit(data: ModuleData | undefined, journal: string, step: AuditedStep | undefined, onError: OutboxOptions['onError']): Promise<Reservation | undefined> {
  if (!step || !data?.hasAudit) return undefined
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      const claim = data.claimAuditStep(step.conversationId, step.steps)
      if (claim) return claim
      await data.loadAudit(step.conversationId)
    }
    throw new Error(`the audit of conversation ${step.conversationId} kept changing while ${step.steps[0]!.type} was committed`)
  } catch (error) {
    // The message matters more than its audit: it commits without this step, and the cause is reported.
    onError(error, `auditing ${step.steps[0]!.type} in ${journal} (the step is left out of the conversation's audit)`)
    return undefined
  }
}

/** A failed message a person deletes is first copied to the module's archive journal (never compacted). */
async function keepForPeople(archive: Journal | undefined, module: string, state: LedgerEntry, t: number): Promise<void> {
  if (!archive) throw new Error(`no archive for module '${module}'`)
  state.writing++
  try {
    await archive.append({ k: 'archive', t, module, env: state.env!, failures: state.failures ?? [] }).committed
  } finally {
    state.writing--
  }
}

/** The `forwarded` record of deliveries a broker took: each message once, with every module it went to. */
function forwardedRecord(states: readonly LedgerEntry[], t: number): JournalRecord {
  const sent = new Map<string, string[]>()
  for (const state of states) {
    const to = sent.get(state.id)
    if (to) to.push(state.module)
    else sent.set(state.id, [state.module])
  }
  return { k: 'forwarded', t, sent: [...sent].map(([id, to]) => ({ id, to })) }
}
