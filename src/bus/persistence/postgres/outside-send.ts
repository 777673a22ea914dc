import type { PoolClient } from 'pg'
import type { OutboxRow } from './handled-commit.js'
import { identifier, moduleSchema } from './schema.js'

/**
 * The outbox of messages sent from outside any handler (a web route), `<prefix>__outside`: `migrate` it as
 * module `_outside`. Kept apart from the modules' schemas; relayed like theirs (relayPending(…, '_outside')).
 */
export const outsideModule = '_outside'

/**
 * Sends from inside the caller's own transaction: the rows join whatever the caller's transaction
 * changes, and the messages leave (through the relay) only if it commits. The caller owns BEGIN and COMMIT.
 */
export async function sendInTransaction(client: PoolClient, prefix: string, rows: readonly OutboxRow[]): Promise<void> {
  const schema = identifier(moduleSchema(prefix, outsideModule))
  for (const row of rows) {
    await client.query(`INSERT INTO ${schema}.outbox (message_id, envelope, destinations, due_at) VALUES ($1, $2, $3, $4)`, [
      row.envelope.id,
      JSON.stringify(row.envelope),
      row.destinations,
      row.dueAt === undefined ? null : new Date(row.dueAt),
    ])
  }
}
