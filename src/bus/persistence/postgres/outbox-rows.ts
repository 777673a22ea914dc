import type { PoolClient } from 'pg'
import type { Envelope } from '../../messages/envelope.js'
import type { DeliveryState } from '../../outbox/delivery-ledger.js'
import type { OutgoingEntry } from '../../outbox/record.js'
import type { Queryable } from './documents.js'

/** Where a delivery's message is kept until its module has an outcome for it. */
export type DeliverySource = { kind: 'outbox'; schema: string; rowId: string } | { kind: 'waiting'; schema: string }

/** A pending outbox row, as read back. */
export interface OutboxRowRead {
  id: string
  envelope: Envelope
  destinations: string[]
  due_at: Date | null
  created_at: Date
}

/** A delivery the PostgreSQL persistence tracks: the bus's DeliveryState, without the journal's bookkeeping. */
export function newDelivery(id: string, module: string, env: Envelope | undefined, at: number | undefined, since: number): DeliveryState {
  return { id, module, producer: undefined, destination: undefined, older: [], kind: undefined, env, offset: -1, size: 0, at, failures: undefined, since, writing: 0, keepUntil: 0, settled: undefined }
}

/**
 * Writes outgoing messages into `schema`'s outbox, one row per destination module (each is a delivery of
 * its own: handled, failed or forwarded apart), claimed by `claimedBy` (null: nobody yet; a relay takes it).
 * One statement: the rows commit together. Returns each row's id with its message and destination.
 */
export async function insertOutboxRows(db: Queryable | PoolClient, schema: string, msgs: readonly OutgoingEntry[], claimedBy: string | null): Promise<{ id: string; entry: OutgoingEntry; module: string }[]> {
  const ids: string[] = []
  const envelopes: string[] = []
  const destinations: string[] = []
  const dueAt: (Date | null)[] = []
  const planned: { entry: OutgoingEntry; module: string }[] = []
  for (const entry of msgs) {
    const json = JSON.stringify(entry.env)
    for (const module of entry.to) {
      ids.push(entry.env.id)
      envelopes.push(json)
      destinations.push(module)
      dueAt.push(entry.at === undefined ? null : new Date(entry.at))
      planned.push({ entry, module })
    }
  }
  if (planned.length === 0) return []
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO ${schema}.outbox (message_id, envelope, destinations, due_at, claimed_by)
     SELECT m, e, ARRAY[d], t, $5 FROM unnest($1::text[], $2::jsonb[], $3::text[], $4::timestamptz[]) WITH ORDINALITY AS u(m, e, d, t, n) ORDER BY n
     RETURNING id`,
    [ids, envelopes, destinations, dueAt, claimedBy],
  )
  // Serial ids are drawn in the order the rows are inserted (ORDER BY n): sorted, they match `planned`.
  const sorted = rows.map((row) => row.id).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))
  return planned.map((plan, index) => ({ id: sorted[index]!, ...plan }))
}
