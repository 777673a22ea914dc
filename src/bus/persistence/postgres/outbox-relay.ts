import type { Pool } from 'pg'
import type { Envelope } from '../../messages/envelope.js'
import { identifier, moduleSchema } from './schema.js'

/** An outgoing message committed with its handled message, not yet handed to the transport. */
export interface PendingMessage {
  id: string
  envelope: Envelope
  destinations: string[]
  dueAt: number | undefined
}

/**
 * Hands a module's committed outgoing messages to the transport: any live instance of the module may, so
 * messages written by an instance that died still leave. A batch is claimed with `FOR UPDATE SKIP
 * LOCKED` (two instances never take the same rows), sent, and marked dispatched in the same transaction
 * once `send` resolves (the broker confirmed). If the relaying instance dies first, its transaction rolls
 * back and the rows are pending again: a message may then leave twice, never not at all, and its receiver
 * drops the second by its id (the inbox).
 * Returns how many it dispatched.
 */
export async function relayPending(pool: Pool, prefix: string, module: string, send: (messages: PendingMessage[]) => Promise<void>, limit = 100): Promise<number> {
  const schema = identifier(moduleSchema(prefix, module))
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    const { rows } = await client.query<{ id: string; envelope: Envelope; destinations: string[]; due_at: Date | null }>(
      `SELECT id, envelope, destinations, due_at FROM ${schema}.outbox WHERE dispatched_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit],
    )
    if (rows.length === 0) {
      await client.query('COMMIT')
      return 0
    }
    await send(rows.map((row) => ({ id: row.id, envelope: row.envelope, destinations: row.destinations, dueAt: row.due_at?.getTime() })))
    await client.query(`UPDATE ${schema}.outbox SET dispatched_at = now() WHERE id = ANY($1::bigint[])`, [rows.map((row) => row.id)])
    await client.query('COMMIT')
    return rows.length
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  } finally {
    client.release()
  }
}
