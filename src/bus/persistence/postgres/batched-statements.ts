import pg, { type PoolClient, type QueryResult } from 'pg'
import type { OutgoingEntry } from '../../outbox/record.js'

/**
 * Statements sent together, in one round trip (the simple query protocol: values written as escaped
 * literals, since it takes no parameters). An attempt's transaction is two round trips this way, its start
 * and its end, not one per statement: on loopback each round trip cost about as much as the statement.
 */
export async function runBatch(client: PoolClient, statements: readonly string[]): Promise<QueryResult[]> {
  const result = (await client.query(statements.join(';\n'))) as unknown as QueryResult | QueryResult[]
  return Array.isArray(result) ? result : [result]
}

export const literal = (value: string): string => pg.escapeLiteral(value)

/** The outgoing messages' rows (one per destination module), as one INSERT … RETURNING id; undefined when there are none. */
export function outboxInsert(schema: string, msgs: readonly OutgoingEntry[], claimedBy: string): { statement: string; planned: { entry: OutgoingEntry; module: string }[] } | undefined {
  const rows: string[] = []
  const planned: { entry: OutgoingEntry; module: string }[] = []
  const claimer = literal(claimedBy)
  for (const entry of msgs) {
    const id = literal(entry.env.id)
    const envelope = `${literal(JSON.stringify(entry.env))}::jsonb`
    const due = entry.at === undefined ? 'NULL' : `to_timestamp(${entry.at / 1000})`
    for (const module of entry.to) {
      rows.push(`(${id}, ${envelope}, ARRAY[${literal(module)}], ${due}, ${claimer})`)
      planned.push({ entry, module })
    }
  }
  if (rows.length === 0) return undefined
  return { statement: `INSERT INTO ${schema}.outbox (message_id, envelope, destinations, due_at, claimed_by) VALUES ${rows.join(', ')} RETURNING id`, planned }
}

/** Serial ids are drawn in the order the rows are inserted: sorted, they match the rows as planned. */
export function idsInOrder(rows: readonly { id: string }[]): string[] {
  return rows.map((row) => row.id).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))
}
