import type { TableDefinition } from './define-table.js'

/** One document change an attempt commits: a document put (with its place in the table's order), or a key deleted. */
export type DataChange = { table: string; key: string; seq: number; doc: unknown; del?: undefined } | { table: string; key: string; del: true; seq?: undefined; doc?: undefined }

/** What the bus reads of a table's index: how many documents, each key's version, and the keys in order. */
export interface TableIndexView {
  readonly size: number
  /** How often the key was written (0: never); an attempt's reads are checked against it. */
  version(key: string): number
  keyOf(slot: number): string
  /** Slots of documents in the order their keys were first put (or newest first), after `afterSeq`. */
  page(direction: 'oldest' | 'newest', afterSeq: number | undefined, limit: number): number[]
}

/** One of a module's tables as the bus handles it. */
export interface TableState {
  readonly definition: TableDefinition
  readonly index: TableIndexView
}

/** A key an attempt read or wrote: the version it had when first touched, and what the attempt staged. */
export interface TouchedKey {
  version: number
  /** undefined: only read. */
  write: { doc: unknown } | { deleted: true } | undefined
}

/** One attempt's reads and writes, checked and claimed at once before its outcome is committed. */
export interface AttemptData {
  touched: Map<TableState, Map<string, TouchedKey>>
}

/** Claimed writes: the changes the attempt's outcome commits, and the claim's end. */
export interface Reservation {
  readonly changes: DataChange[]
  /** Called once the outcome is durable and applied, or failed: frees the keys for the next writer. */
  settle(): void
}

/**
 * A module's tables kept by the persistence outside any database transaction (the journal files keep them
 * in their segments): reads, pages, and the claim that keeps two writers of one key from losing an update.
 */
export interface ModuleTables {
  readonly module: string
  table(definition: TableDefinition): TableState
  /** Waits until no claimed write of the key is on its way. */
  settled(state: TableState, key: string): Promise<void>
  read(state: TableState, key: string): Promise<unknown>
  page(state: TableState, direction: 'oldest' | 'newest', cursor: number | undefined, limit: number): Promise<{ items: { key: string; doc: unknown; seq: number }[]; next: number | undefined }>
  /** Checks what the attempt read and claims what it wrote; throws DataConflictError. */
  reserve(attempt: AttemptData): Reservation | undefined
  /** The audit of conversations, a table of the bus's own (when kept). */
  readonly auditTable: TableState | undefined
}
