import { checkKey, type DocumentOf, type TableDefinition } from '../data/define-table.js'
import { resolveListOptions, type Page, type Table } from '../data/table.js'

/** A put or a delete a handler made, as the test kit records it. */
export type RecordedWrite = { table: string; key: string; doc: unknown } | { table: string; key: string; deleted: true }

/**
 * Module data for handler tests: every table in memory, no journal. Writes apply at once (a test sees
 * what the handler wrote as soon as it returns); documents are copied in and out, so a test's objects
 * and the handler's never share state.
 */
export class MemoryTables {
  readonly written: RecordedWrite[] = []
  readonly #tables = new Map<TableDefinition, Map<string, { seq: number; doc: unknown }>>()
  #nextSeq = 1

  #rows(table: TableDefinition): Map<string, { seq: number; doc: unknown }> {
    let rows = this.#tables.get(table)
    if (!rows) this.#tables.set(table, (rows = new Map()))
    return rows
  }

  /** Puts documents in before the handler runs (validated against the table's schema). */
  seed<T extends TableDefinition>(table: T, docs: Readonly<Record<string, DocumentOf<T>>>): void {
    const rows = this.#rows(table)
    for (const [key, doc] of Object.entries(docs)) rows.set(key, { seq: rows.get(key)?.seq ?? this.#nextSeq++, doc: structuredClone(table.validate(key, doc)) })
  }

  /** The table's documents now, by key, in table order. */
  documents<T extends TableDefinition>(table: T): Record<string, DocumentOf<T>> {
    return Object.fromEntries([...this.#rows(table)].map(([key, row]) => [key, structuredClone(row.doc)])) as Record<string, DocumentOf<T>>
  }

  table<T extends TableDefinition>(definition: T): Table<DocumentOf<T>> {
    const rows = this.#rows(definition)
    const written = this.written
    return {
      async get(key) {
        checkKey(definition.name, key)
        const row = rows.get(key)
        return row ? (structuredClone(row.doc) as DocumentOf<T>) : undefined
      },
      put: (key, doc) => {
        const valid = structuredClone(definition.validate(key, doc))
        const row = rows.get(key)
        // Map order is insertion order: a key put again after a delete goes to the end, as in the bus.
        rows.set(key, { seq: row?.seq ?? this.#nextSeq++, doc: valid })
        written.push({ table: definition.name, key, doc: structuredClone(valid) })
      },
      delete(key) {
        checkKey(definition.name, key)
        rows.delete(key)
        written.push({ table: definition.name, key, deleted: true })
      },
      async list(options) {
        const { cursor, limit, order } = resolveListOptions(options)
        let sorted = [...rows].sort((a, b) => a[1].seq - b[1].seq)
        if (order === 'newest') sorted.reverse()
        if (cursor !== undefined) sorted = sorted.filter(([, row]) => (order === 'oldest' ? row.seq > cursor : row.seq < cursor))
        const items = sorted.slice(0, limit)
        const page: Page<DocumentOf<T>> = { items: items.map(([key, row]) => ({ key, doc: structuredClone(row.doc) as DocumentOf<T> })) }
        if (sorted.length > limit) page.next = String(items[items.length - 1]![1].seq)
        return page
      },
      count: () => Promise.resolve(rows.size),
    }
  }
}
