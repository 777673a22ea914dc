import pg, { type PoolClient, type QueryResult } from 'pg'
import type { OutgoingEntry } from '../../delivery/delivery.js'

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

/**
 * The outgoing messages' rows (one per destination module: each is a delivery of its own, handled, failed or
 * forwarded apart), as one INSERT … RETURNING id, claimed by `claimedBy` (null: nobody yet, a relay takes
 * them). Undefined when there are none.
 */
export function outboxInsert(schema: string, msgs: readonly OutgoingEntry[], claimedBy: string | null): { statement: string; planned: { entry: OutgoingEntry; module: string }[] } | undefined {
  const rows: string[] = []
  const planned: { entry: OutgoingEntry; module: string }[] = []
  const claimer = claimedBy === null ? 'NULL' : literal(claimedBy)
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

/** Outbox rows in the order they were written (their serial ids; RETURNING promises no order). */
export function inRowOrder<Row extends { id: string }>(rows: Row[]): Row[] {
  return rows.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1))
}

/** Serial ids are drawn in the order the rows are inserted: sorted, they match the rows as planned. */
export function idsInOrder(rows: { id: string }[]): string[] {
  return inRowOrder(rows).map((row) => row.id)
}

/** A condition: `column` is more than the milliseconds in parameter `param` ago. */
export function olderThan(column: string, param: string): string {
  return `${column} < now() - make_interval(secs => ${param}::double precision / 1000)`
}
