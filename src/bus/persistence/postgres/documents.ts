import type { Pool, PoolClient } from 'pg'
import { checkKey, type TableDefinition } from '../../data/define-table.js'
import { resolveListOptions, type ListOptions, type Page, type TableReader } from '../../data/table.js'
import { identifier, moduleSchema } from './schema.js'
import { countDocuments, documentsOf, listDocuments as listStatement, selectDocument } from './statements.js'

/** Where documents are read: the pool (outside handlers) or an attempt's client (inside its transaction). */
export type Queryable = Pick<Pool | PoolClient, 'query'>

/**
 * A module's table read from PostgreSQL: the same pages as the journal's tables, in the order keys were
 * first put (`seq`), a key keeping its place when its document changes and taking a new one when put again
 * after a delete. Outside handlers it reads through the pool (the console's order list, whichever instance
 * wrote them).
 */
export function readDocuments<Doc>(db: Queryable, prefix: string, module: string, definition: TableDefinition | string): TableReader<Doc> {
  const table = typeof definition === 'string' ? definition : definition.name
  const documents = documentsOf(identifier(moduleSchema(prefix, module)))
  return {
    async get(key) {
      checkKey(table, key)
      const { rows } = await db.query<{ doc: Doc }>(selectDocument(documents, false), [table, key])
      return rows[0]?.doc
    },
    list: (options) => listDocuments<Doc>(db, documents, table, options),
    async count() {
      const { rows } = await db.query<{ n: string }>(countDocuments(documents), [table])
      return Number(rows[0]!.n)
    },
  }
}

async function listDocuments<Doc>(db: Queryable, documents: string, table: string, options: ListOptions | undefined): Promise<Page<Doc>> {
  const { cursor, limit, order } = resolveListOptions(options)
  const newest = order === 'newest'
  const { rows } = await db.query<{ key: string; doc: Doc; seq: string }>(
    listStatement(documents, newest, cursor !== undefined),
    cursor === undefined ? [table, limit + 1] : [table, limit + 1, cursor],
  )
  const page: Page<Doc> = { items: rows.slice(0, limit).map(({ key, doc }) => ({ key, doc })) }
  if (rows.length > limit) page.next = rows[limit - 1]!.seq
  return page
}
