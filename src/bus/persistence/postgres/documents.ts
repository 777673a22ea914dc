import type { Pool } from 'pg'
import { resolveListOptions, type ListOptions, type Page } from '../../data/table.js'
import { identifier, moduleSchema } from './schema.js'

/**
 * A module's table read from PostgreSQL, outside handlers (the console's order list, whichever instance
 * wrote them): the same pages as the journal's tables, in the order keys were first put (`seq`), a key
 * keeping its place when its document changes and taking a new one when put again after a delete.
 */
export interface DocumentsReader<Doc> {
  get(key: string): Promise<Doc | undefined>
  list(options?: ListOptions): Promise<Page<Doc>>
  count(): Promise<number>
}

export function readDocuments<Doc>(pool: Pool, prefix: string, module: string, table: string): DocumentsReader<Doc> {
  const documents = `${identifier(moduleSchema(prefix, module))}.documents`
  return {
    async get(key) {
      const { rows } = await pool.query<{ doc: Doc }>(`SELECT doc FROM ${documents} WHERE table_name = $1 AND key = $2`, [table, key])
      return rows[0]?.doc
    },
    async list(options) {
      const { cursor, limit, order } = resolveListOptions(options)
      const newest = order === 'newest'
      const after = cursor === undefined ? '' : `AND seq ${newest ? '<' : '>'} $3`
      const { rows } = await pool.query<{ key: string; doc: Doc; seq: string }>(
        `SELECT key, doc, seq FROM ${documents} WHERE table_name = $1 ${after} ORDER BY seq ${newest ? 'DESC' : 'ASC'} LIMIT $2`,
        cursor === undefined ? [table, limit + 1] : [table, limit + 1, cursor],
      )
      const page: Page<Doc> = { items: rows.slice(0, limit).map(({ key, doc }) => ({ key, doc })) }
      if (rows.length > limit) page.next = rows[limit - 1]!.seq
      return page
    },
    async count() {
      const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${documents} WHERE table_name = $1`, [table])
      return Number(rows[0]!.n)
    },
  }
}
