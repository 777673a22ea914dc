import type { PoolClient } from 'pg'
import { checkKey, type TableDefinition } from '../../data/define-table.js'
import type { ListOptions, Page, Table, TableReader } from '../../data/table.js'
import { DataConflictError } from '../../errors.js'
import { identifier, moduleSchema } from './schema.js'
import { readDocuments, type Queryable } from './documents.js'
import { deleteDocument, documentsOf, insertDocumentIfAbsent, selectDocument, upsertDocument } from './statements.js'

/** What an attempt staged for one key: a document, or its deletion. */
export type StagedWrite = { doc: unknown } | { deleted: true }

/**
 * One of a module's tables inside an attempt's transaction. A read locks the document's row (`FOR UPDATE`)
 * until the transaction ends, so another instance handling a message about the same key waits for this
 * one's outcome and then reads what it wrote: no lost update, no version to check. Writes are staged and
 * written by the commit, with the inbox mark and the outgoing messages.
 */
export class TransactionTable implements Table<unknown> {
  readonly staged = new Map<string, StagedWrite>()
  /** Keys read and found absent: a lock on a row that does not exist holds nothing, so their insert must not overwrite. */
  readonly #readAbsent = new Set<string>()
  readonly #reader: TableReader<unknown>

  constructor(
    /** The attempt's client, its transaction opened (the first read opens it). */
    private readonly open: () => Promise<PoolClient>,
    private readonly prefix: string,
    private readonly module: string,
    readonly definition: TableDefinition,
  ) {
    this.#reader = readDocuments({ query: async (text: string, values?: unknown[]) => (await open()).query(text, values) } as Queryable, prefix, module, definition)
  }

  async get(key: string): Promise<unknown> {
    checkKey(this.definition.name, key)
    const staged = this.staged.get(key)
    if (staged) return 'deleted' in staged ? undefined : structuredClone(staged.doc)
    const documents = documentsOf(identifier(moduleSchema(this.prefix, this.module)))
    const client = await this.open()
    const { rows } = await client.query<{ doc: unknown }>(selectDocument(documents, true), [this.definition.name, key])
    if (rows.length === 0) this.#readAbsent.add(key)
    return rows[0]?.doc
  }

  put(key: string, doc: unknown): void {
    this.staged.set(key, { doc: this.definition.validate(key, doc) })
  }

  delete(key: string): void {
    checkKey(this.definition.name, key)
    this.staged.set(key, { deleted: true })
  }

  list(options?: ListOptions): Promise<Page<unknown>> {
    return this.#reader.list(options)
  }

  count(): Promise<number> {
    return this.#reader.count()
  }

  /**
   * Writes the documents read as absent, one by one: if another attempt put one meanwhile (this insert waits
   * for its commit), this one decided on stale data and runs again, reading the committed document.
   */
  async writeChecked(client: PoolClient): Promise<void> {
    const documents = documentsOf(identifier(moduleSchema(this.prefix, this.module)))
    for (const [key, write] of this.staged) {
      if ('deleted' in write || !this.#readAbsent.has(key)) continue
      const doc = JSON.stringify(this.definition.validate(key, write.doc))
      const inserted = await client.query(insertDocumentIfAbsent(documents), [this.definition.name, key, doc])
      if (inserted.rowCount === 0) throw new DataConflictError(this.definition.name, key)
    }
  }

  /** The other writes (documents read locked, or never read: the last writer's stays), as statements for the commit's batch. */
  batchedWrites(): string[] {
    const documents = documentsOf(identifier(moduleSchema(this.prefix, this.module)))
    const table = this.definition.name
    const statements: string[] = []
    for (const [key, write] of this.staged) {
      if ('deleted' in write) statements.push(deleteDocument(documents, table, key))
      else if (!this.#readAbsent.has(key)) {
        // Checked again: the handler may have changed the object after put().
        statements.push(upsertDocument(documents, table, key, JSON.stringify(this.definition.validate(key, write.doc))))
      }
    }
    return statements
  }
}
