import pg, { type PoolClient, type QueryResult } from 'pg'

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

/** Outbox rows in the order they were written (their serial ids; RETURNING promises no order). */
export function inRowOrder<Row extends { id: string }>(rows: Row[]): Row[] {
  return rows.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1))
}

/** The ids the last of the statements sent together gave back (an INSERT … RETURNING id, last), in row order. */
export function returnedIds(result: QueryResult | QueryResult[]): string[] {
  const last = Array.isArray(result) ? result[result.length - 1]! : result
  return idsInOrder(last.rows as { id: string }[])
}

/** Serial ids are drawn in the order the rows are inserted: sorted, they match the rows as planned. */
export function idsInOrder(rows: { id: string }[]): string[] {
  return inRowOrder(rows).map((row) => row.id)
}
