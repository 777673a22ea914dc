import type { PoolClient } from 'pg'
import { checkKey, type TableDefinition } from '../../data/define-table.js'
import type { ListOptions, Page, Table, TableReader } from '../../data/table.js'
import { DataConflictError } from '../../errors.js'
import { identifier, moduleSchema } from './schema.js'
import { readDocuments } from './documents.js'

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
    private readonly client: PoolClient,
    private readonly prefix: string,
    private readonly module: string,
    readonly definition: TableDefinition,
  ) {
    this.#reader = readDocuments(client, prefix, module, definition)
  }

  async get(key: string): Promise<unknown> {
    checkKey(this.definition.name, key)
    const staged = this.staged.get(key)
    if (staged) return 'deleted' in staged ? undefined : structuredClone(staged.doc)
    const documents = `${identifier(moduleSchema(this.prefix, this.module))}.documents`
    const { rows } = await this.client.query<{ doc: unknown }>(`SELECT doc FROM ${documents} WHERE table_name = $1 AND key = $2 FOR UPDATE`, [this.definition.name, key])
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

  /** Writes what was staged, on the transaction's client (the commit calls it). */
  async write(): Promise<void> {
    const documents = `${identifier(moduleSchema(this.prefix, this.module))}.documents`
    for (const [key, write] of this.staged) {
      if ('deleted' in write) await this.client.query(`DELETE FROM ${documents} WHERE table_name = $1 AND key = $2`, [this.definition.name, key])
      else {
        // Checked again: the handler may have changed the object after put().
        const doc = JSON.stringify(this.definition.validate(key, write.doc))
        if (this.#readAbsent.has(key)) {
          // Read as absent: if another attempt put it meanwhile (this insert waits for its commit), this one
          // decided on stale data and runs again, reading the committed document.
          const inserted = await this.client.query(`INSERT INTO ${documents} (table_name, key, doc) VALUES ($1, $2, $3) ON CONFLICT (table_name, key) DO NOTHING`, [this.definition.name, key, doc])
          if (inserted.rowCount === 0) throw new DataConflictError(this.definition.name, key)
        } else {
          await this.client.query(
            `INSERT INTO ${documents} AS d (table_name, key, doc) VALUES ($1, $2, $3) ON CONFLICT (table_name, key) DO UPDATE SET doc = EXCLUDED.doc, version = d.version + 1`,
            [this.definition.name, key, doc],
          )
        }
      }
    }
  }
}
