import type { Pool, PoolClient } from 'pg'
import { checkKey, type TableDefinition } from '../../data/define-table.js'
import { resolveListOptions, type ListOptions, type Page, type TableReader } from '../../data/table.js'
import { identifier, moduleSchema } from './schema.js'

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
  const documents = `${identifier(moduleSchema(prefix, module))}.documents`
  return {
    async get(key) {
      checkKey(table, key)
      const { rows } = await db.query<{ doc: Doc }>(`SELECT doc FROM ${documents} WHERE table_name = $1 AND key = $2`, [table, key])
      return rows[0]?.doc
    },
    list: (options) => listDocuments<Doc>(db, documents, table, options),
    async count() {
      const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${documents} WHERE table_name = $1`, [table])
      return Number(rows[0]!.n)
    },
  }
}

async function listDocuments<Doc>(db: Queryable, documents: string, table: string, options: ListOptions | undefined): Promise<Page<Doc>> {
  const { cursor, limit, order } = resolveListOptions(options)
  const newest = order === 'newest'
  const after = cursor === undefined ? '' : `AND seq ${newest ? '<' : '>'} $3`
  const { rows } = await db.query<{ key: string; doc: Doc; seq: string }>(
    `SELECT key, doc, seq FROM ${documents} WHERE table_name = $1 ${after} ORDER BY seq ${newest ? 'DESC' : 'ASC'} LIMIT $2`,
    cursor === undefined ? [table, limit + 1] : [table, limit + 1, cursor],
  )
  const page: Page<Doc> = { items: rows.slice(0, limit).map(({ key, doc }) => ({ key, doc })) }
  if (rows.length > limit) page.next = rows[limit - 1]!.seq
  return page
}
