import { DataConflictError, JournalCorruptError, UndeclaredTableError } from '../errors.js'
import type { Segment } from './delivery-ledger.js'
import { isCode, type FileSystem } from '../files/file-system.js'
import { decodeRecordAt, holdsData, type JournalRecord } from './record.js'
import type { TableDefinition } from '../data/define-table.js'
import type { AttemptData, DataChange, ModuleTables, Reservation, TableState, TouchedKey } from '../data/module-tables.js'
import { DocumentIndex } from './document-index.js'
import { RecentDocs } from './recent-docs.js'
import { conversationsTable, maxStepsPerConversation, type AuditDoc, type ConversationStep } from '../audit/conversation-step.js'

export interface ModuleDataOptions {
  module: string
  tables: readonly TableDefinition[]
  fs: FileSystem
  /** The file of one of the module's journal segments. */
  fileOf: (segment: number) => string
  /** The delivery ledger's segment, whose live counts compaction reads. */
  segmentOf: (segment: number) => Segment
  /** Keep the module's audit of conversations (a table of the bus's own). @default false */
  audit?: boolean
}

/** Documents of a table kept in memory after their commit or read. */
const recentDocuments = 8_192
/** Audit documents kept in memory after their commit, so the next step of a conversation needs no read: at most this many steps in all. */
const recentAuditSteps = 32_768

/**
 * A commit on its way to disk: reads of its keys wait for it, compaction leaves them alone. (No promise
 * of its own: most claims are never waited for, and a promise per claim was a visible share of a profile.)
 */
class PendingWrite {
  #waiters: (() => void)[] | undefined
  constructor(
    /** The document it writes (kept for the audit, whose next step builds on it). */
    readonly doc?: unknown,
  ) {}

  done(): Promise<void> {
    return new Promise<void>((resolve) => (this.#waiters ??= []).push(resolve))
  }

  resolve(): void {
    const waiters = this.#waiters
    this.#waiters = undefined
    if (waiters) for (const wake of waiters) wake()
  }
}

/** A table as the journal keeps it: where each document lies, the writes on their way, the recent documents. */
export interface JournalTableState extends TableState {
  readonly index: DocumentIndex
  readonly pending: Map<string, PendingWrite>
  /** Documents recently committed or read, so most reads need no disk. */
  readonly recent: RecentDocs
}

/** A document role compaction may carry forward. */
export interface DocumentRole {
  table: JournalTableState
  slot: number
  key: string
  from: number
}

const maxReadAttempts = 5

/** A claim that writes nothing (an audit document that is full). */
const noChange: Reservation = { changes: [], settle() {} }

/**
 * A module's tables: where each document lies (DocumentIndex), reading documents back from the journal,
 * and the claim that keeps two writers of one key from losing an update.
 *
 * Concurrency is optimistic (version check), not a lock: a handler discovers the keys it touches as it
 * runs, so a lock would be taken in whatever order handlers happen to read, and two handlers reading the
 * same keys in opposite orders would deadlock. Instead each attempt notes the version of every key it
 * reads or writes; right before its record is appended (synchronously, so nothing slips in between) the
 * versions are checked and the written keys claimed. A key claimed by another attempt, or changed since
 * it was read, is a DataConflictError: the handlers run again, and their reads wait for the claim to
 * be synced, so the second run sees the first writer's data (as NServiceBus sagas and Marten documents
 * do with optimistic concurrency).
 */
export class ModuleData implements ModuleTables {
  readonly module: string
  readonly #tables = new Map<string, JournalTableState>()
  readonly #byDefinition = new Map<TableDefinition, JournalTableState>()
  readonly #options: ModuleDataOptions
  /** The audit's table (not in #byDefinition: handlers cannot reach it). */
  readonly #audit: JournalTableState | undefined

  constructor(options: ModuleDataOptions) {
    this.module = options.module
    this.#options = options
    for (const definition of options.tables) {
      const state: JournalTableState = { definition, index: new DocumentIndex(options.segmentOf), pending: new Map(), recent: new RecentDocs(recentDocuments) }
      this.#tables.set(definition.name, state)
      this.#byDefinition.set(definition, state)
    }
    if (options.audit) {
      this.#audit = {
        definition: conversationsTable,
        index: new DocumentIndex(options.segmentOf),
        pending: new Map(),
        recent: new RecentDocs(recentAuditSteps, (doc) => (doc as AuditDoc).steps.length),
      }
      this.#tables.set(conversationsTable.name, this.#audit)
    }
  }

  /** The table of this module for `definition`; UndeclaredTableError when the module does not list it. */
  table(definition: TableDefinition): JournalTableState {
    const state = this.#byDefinition.get(definition)
    if (!state) throw new UndeclaredTableError(definition?.name ?? String(definition), this.module)
    return state
  }

  /** Waits until no commit of the key is on its way to disk. */
  async settled(state: JournalTableState, key: string): Promise<void> {
    for (let pending = state.pending.get(key); pending; pending = state.pending.get(key)) await pending.done()
  }

  /** The key's committed document, read back from the journal; undefined when there is none. */
  async read(state: JournalTableState, key: string): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      const slot = state.index.documentSlot(key)
      if (slot === -1) return undefined
      const version = state.index.version(key)
      const known = state.recent.get(key, version)
      // A copy: the caller may change what it gets, and the kept one must stay what was committed.
      if (known !== undefined) return state === this.#audit ? known : structuredClone(known)
      const found = await this.#readSlot(state, slot, key)
      if (found.ok) {
        if (state.index.version(key) === version) state.recent.set(key, version, found.doc)
        return state === this.#audit ? found.doc : structuredClone(found.doc)
      }
      // Compaction moved the record (and deleted its old segment) while it was read: look again.
      if (attempt === maxReadAttempts) throw new Error(`document ${key} of table ${state.definition.name} kept moving while it was read`)
    }
  }

  /** Up to `limit` documents in table order after `cursor` (the seq of the last one seen). */
  async page(state: JournalTableState, direction: 'oldest' | 'newest', cursor: number | undefined, limit: number): Promise<{ items: { key: string; doc: unknown; seq: number }[]; next: number | undefined }> {
    const slots = state.index.page(direction, cursor, limit + 1)
    const more = slots.length > limit
    if (more) slots.length = limit
    const items: { key: string; doc: unknown; seq: number }[] = []
    for (const slot of slots) {
      const key = state.index.keyOf(slot)
      const seq = state.index.seqOf(slot)
      const doc = await this.read(state, key)
      if (doc !== undefined) items.push({ key, doc, seq })
    }
    return { items, next: more && items.length > 0 ? items[items.length - 1]!.seq : undefined }
  }

  /**
   * Checks an attempt's reads and claims its writes, synchronously: throws DataConflictError when a key
   * changed (or is being changed) since the attempt read it. Returns undefined when nothing was staged.
   */
  // The attempt's tables are this module's own (table() made them): the journal's kind.
  reserve(attempt: AttemptData & { touched: Map<JournalTableState, Map<string, TouchedKey>> }): Reservation | undefined {
    for (const [state, touched] of attempt.touched) {
      for (const [key, { version }] of touched) {
        if (state.pending.has(key) || state.index.version(key) !== version) throw new DataConflictError(state.definition.name, key)
      }
    }
    const changes: DataChange[] = []
    const claimed: Claim[] = []
    for (const [state, touched] of attempt.touched) {
      const { index, definition } = state
      for (const [key, { write }] of touched) {
        if (!write) continue
        const slot = index.documentSlot(key)
        if ('deleted' in write) {
          if (slot === -1) continue
          changes.push({ table: definition.name, key, del: true })
        } else {
          // Checked again: the handler may have changed the object after put().
          const doc = definition.validate(key, write.doc)
          changes.push({ table: definition.name, key, seq: slot === -1 ? index.nextSeq++ : index.seqOf(slot), doc })
        }
        claimed.push(claim(state, key))
      }
    }
    return changes.length === 0 ? undefined : reservation(changes, claimed)
  }

  /**
   * Claims the deletion of these keys of a table by the bus itself (the audit's retention), skipping any
   * being written now. Synchronous, like reserve.
   */
  claimDeletes(table: TableState, keys: readonly string[]): Reservation | undefined {
    // The state handed back is one of this module's (the audit's, from auditTable): found again by its name.
    const state = this.#tables.get(table.definition.name)
    if (!state) throw new UndeclaredTableError(table.definition.name, this.module)
    const changes: DataChange[] = []
    const claimed: Claim[] = []
    for (const key of keys) {
      if (state.pending.has(key) || state.index.documentSlot(key) === -1) continue
      claimed.push(claim(state, key))
      changes.push({ table: state.definition.name, key, del: true })
    }
    return changes.length === 0 ? undefined : reservation(changes, claimed)
  }

  /**
   * A synced record at (segment, offset, size) holds these changes: commit and replay alike. A commit's
   * documents are kept in memory for the next read (`remember`); replay's are not (a million of them went
   * through the cache in 1.9 s more of start-up, to keep the last 8,192).
   */
  apply(segment: number, changes: readonly DataChange[], offset: number, size: number, remember = true): void {
    for (const change of changes) {
      const state = this.#tables.get(change.table)
      // A table the module no longer lists: its records stay on disk until compaction drops them.
      if (!state) continue
      if (change.del) {
        state.index.delete(change.key, segment, offset, size)
        state.recent.delete(change.key)
      } else {
        state.index.put(change.key, change.seq, segment, offset, size)
        if (remember) state.recent.set(change.key, state.index.version(change.key), change.doc)
      }
    }
  }

  // --- the audit of conversations ---

  get hasAudit(): boolean {
    return this.#audit !== undefined
  }

  /** The audit table, for its retention (list and delete) and the admin's reads. */
  get auditTable(): JournalTableState | undefined {
    return this.#audit
  }

  /** The steps of a conversation that happened at this module (read back from the journal if need be). */
  async auditSteps(conversationId: string): Promise<ConversationStep[]> {
    const audit = this.#audit
    if (!audit) return []
    await this.settled(audit, conversationId)
    const doc = (await this.read(audit, conversationId)) as AuditDoc | undefined
    return doc?.steps ?? []
  }

  /**
   * Claims the audit document of `conversationId` with `step` added, synchronously (right before the
   * record that holds it is appended). It builds on the last claimed or committed document; undefined
   * when that one is on disk only (call loadAudit, then claim again).
   */
  claimAuditStep(conversationId: string, steps: readonly ConversationStep[]): Reservation | undefined {
    const audit = this.#audit
    if (!audit) return undefined
    const pending = audit.pending.get(conversationId)
    let base: AuditDoc | undefined
    if (pending) base = pending.doc as AuditDoc
    else {
      const version = audit.index.version(conversationId)
      base = version === 0 ? { steps: [] } : (audit.recent.get(conversationId, version) as AuditDoc | undefined)
    }
    if (!base) return undefined
    // Full: nothing more is written for this conversation here (see maxStepsPerConversation).
    if (base.steps.length >= maxStepsPerConversation) return noChange
    const doc: AuditDoc = { steps: [...base.steps, ...steps].slice(0, maxStepsPerConversation) }
    const slot = audit.index.documentSlot(conversationId)
    const change: DataChange = { table: conversationsTable.name, key: conversationId, seq: slot === -1 ? audit.index.nextSeq++ : audit.index.seqOf(slot), doc }
    return reservation([change], [claim(audit, conversationId, doc)])
  }

  /** Reads a conversation's committed audit document into memory, so the next claim finds it. */
  async loadAudit(conversationId: string): Promise<void> {
    if (this.#audit) await this.read(this.#audit, conversationId)
  }

  // --- compaction ---

  /**
   * Document roles live in each of `segments`; a segment one of whose keys is being written is left out
   * (try it later). One pass over each table.
   */
  async liveIn(segments: ReadonlySet<number>): Promise<Map<number, DocumentRole[]>> {
    const roles = new Map<number, DocumentRole[]>()
    const busy = new Set<number>()
    for (const table of this.#tables.values()) {
      for (const [segment, slots] of await table.index.liveIn(segments)) {
        let list = roles.get(segment)
        if (!list) roles.set(segment, (list = []))
        for (const slot of slots) {
          const key = table.index.keyOf(slot)
          if (table.pending.has(key)) busy.add(segment)
          list.push({ table, slot, key, from: segment })
        }
      }
    }
    for (const segment of busy) roles.delete(segment)
    for (const segment of segments) if (!busy.has(segment) && !roles.has(segment)) roles.set(segment, [])
    return roles
  }

  stillCarriable(role: DocumentRole): boolean {
    const { table, slot, key, from } = role
    return !table.pending.has(key) && table.index.keyOf(slot) === key && table.index.location(slot).segment === from
  }

  /** The record that carries a role forward; reads the document back first. */
  async carryRecord(role: DocumentRole, t: number): Promise<JournalRecord | undefined> {
    const { table, slot, key } = role
    if (table.index.isTombstone(slot)) return { k: 'doc', t, table: table.definition.name, key, del: true }
    // A document still in memory needs no read.
    const known = table.recent.get(key, table.index.version(key))
    if (known !== undefined) return { k: 'doc', t, table: table.definition.name, key, seq: table.index.seqOf(slot), doc: known }
    const found = await this.#readSlot(table, slot, key)
    if (!found.ok) return undefined
    return { k: 'doc', t, table: table.definition.name, key, seq: table.index.seqOf(slot), doc: found.doc }
  }

  carried(role: DocumentRole, segment: number, offset: number, size: number): void {
    role.table.index.carried(role.slot, role.from, segment, offset, size)
  }

  segmentDeleted(segment: number): void {
    for (const table of this.#tables.values()) table.index.segmentDeleted(segment)
  }

  async #readSlot(state: JournalTableState, slot: number, key: string): Promise<{ ok: true; doc: unknown } | { ok: false }> {
    const { segment, offset, size } = state.index.location(slot)
    const file = this.#options.fileOf(segment)
    let bytes: Uint8Array
    try {
      bytes = await this.#options.fs.readRange(file, offset, size)
    } catch (error) {
      if (isCode(error, 'ENOENT')) return { ok: false }
      throw error
    }
    const moved = () => state.index.keyOf(slot) !== key || state.index.location(slot).segment !== segment || state.index.location(slot).offset !== offset
    if (bytes.length < size) {
      if (moved()) return { ok: false }
      throw new JournalCorruptError(file, offset, `the file ends before the record of document ${key}`, 'reading a document back')
    }
    const decoded = decodeRecordAt(bytes, 0)
    if (!decoded.ok) {
      if (moved()) return { ok: false }
      throw new JournalCorruptError(file, offset, decoded.reason, 'reading a document back')
    }
    const change = changeIn(decoded.record, state.definition.name, key)
    if (!change) {
      if (moved()) return { ok: false }
      throw new JournalCorruptError(file, offset, `the record there does not hold document ${key}`, 'reading a document back')
    }
    return { ok: true, doc: change.doc }
  }
}

interface Claim {
  state: JournalTableState
  key: string
  pending: PendingWrite
}

/** Marks the key as being written (reads wait, compaction leaves it, a conflicting attempt runs again). */
function claim(state: JournalTableState, key: string, doc?: unknown): Claim {
  const pending = new PendingWrite(doc)
  state.pending.set(key, pending)
  return { state, key, pending }
}

/** The changes to commit, and their claims' end once the record is synced (or failed). */
function reservation(changes: DataChange[], claimed: readonly Claim[]): Reservation {
  return {
    changes,
    settle() {
      for (const { state, key, pending } of claimed) {
        if (state.pending.get(key) === pending) state.pending.delete(key)
        pending.resolve()
      }
    },
  }
}

function changeIn(record: JournalRecord, table: string, key: string): DataChange | undefined {
  if (record.k === 'doc') return record.table === table && record.key === key && !record.del ? record : undefined
  const data = holdsData(record) ? record.data : undefined
  if (!data) return undefined
  for (let i = data.length - 1; i >= 0; i--) {
    const change = data[i]!
    if (change.table === table && change.key === key) return change.del ? undefined : change
  }
  return undefined
}
