import type { PoolClient } from 'pg'
import { DataConflictError } from '../../errors.js'
import type { Envelope } from '../../messages/envelope.js'
import { identifier, moduleSchema } from './schema.js'

/** A message sent by a handler, to be dispatched once its transaction has committed. */
export interface OutboxRow {
  envelope: Envelope
  /** The modules it goes to. */
  destinations: readonly string[]
  /** When it is due (ms since epoch), for a deferred message. */
  dueAt?: number
}

/** A change of a saga instance or a document, with the version it was read at (undefined: read as absent). */
export interface VersionedChange {
  key: string
  /** The new value; undefined deletes it. */
  value: unknown
  readVersion: number | undefined
}

/** Everything one handled message changes in its module's schema. */
export interface HandledCommit {
  module: string
  messageId: string
  outgoing: readonly OutboxRow[]
  /** Saga instances, keyed `<saga>` + correlation id. */
  sagas: readonly (VersionedChange & { saga: string })[]
  /** Documents of the module's tables. */
  documents: readonly (VersionedChange & { table: string })[]
  /**
   * The handler's own SQL, on the same client inside the same transaction: it commits with the rest or
   * not at all (the synchronized storage session of NServiceBus).
   */
  inTransaction?: (client: PoolClient) => Promise<void>
}

export type CommitOutcome = 'committed' | 'duplicate'

/**
 * One transaction per handled message: the inbox mark (shared by every instance of the module: a
 * redelivery to another instance finds it and changes nothing), the handler's own SQL, its saga changes and
 * documents (each checked against the version it was read at), and its outgoing messages in the outbox.
 * All commit together or none does.
 */
export async function commitHandled(client: PoolClient, prefix: string, commit: HandledCommit): Promise<CommitOutcome> {
  const schema = identifier(moduleSchema(prefix, commit.module))
  await client.query('BEGIN')
  try {
    const marked = await client.query(`INSERT INTO ${schema}.inbox (message_id) VALUES ($1) ON CONFLICT (message_id) DO NOTHING`, [commit.messageId])
    if (marked.rowCount === 0) {
      await client.query('ROLLBACK')
      return 'duplicate'
    }
    if (commit.inTransaction) await commit.inTransaction(client)
    for (const change of commit.sagas) await writeVersioned(client, `${schema}.sagas`, ['saga', 'correlation_id'], [change.saga, change.key], 'data', change, `saga ${change.saga}`)
    for (const change of commit.documents) await writeVersioned(client, `${schema}.documents`, ['table_name', 'key'], [change.table, change.key], 'doc', change, change.table)
    for (const row of commit.outgoing) {
      await client.query(`INSERT INTO ${schema}.outbox (message_id, envelope, destinations, due_at) VALUES ($1, $2, $3, $4)`, [
        row.envelope.id,
        JSON.stringify(row.envelope),
        row.destinations,
        row.dueAt === undefined ? null : new Date(row.dueAt),
      ])
    }
    await client.query('COMMIT')
    return 'committed'
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  }
}

/**
 * Puts or deletes one row, only if it is still at the version it was read at: a row changed by another
 * instance since is a DataConflictError (the message is handled again with the new data).
 */
async function writeVersioned(client: PoolClient, table: string, keyColumns: readonly [string, string], keys: readonly [string, string], valueColumn: string, change: VersionedChange, label: string): Promise<void> {
  const where = `${keyColumns[0]} = $1 AND ${keyColumns[1]} = $2`
  let changed: number | null
  if (change.value === undefined) {
    changed = (await client.query(`DELETE FROM ${table} WHERE ${where} AND version = $3`, [...keys, change.readVersion ?? 0])).rowCount
    if (change.readVersion === undefined) return
  } else if (change.readVersion === undefined) {
    changed = (await client.query(`INSERT INTO ${table} (${keyColumns[0]}, ${keyColumns[1]}, ${valueColumn}) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [...keys, JSON.stringify(change.value)])).rowCount
  } else {
    changed = (await client.query(`UPDATE ${table} SET ${valueColumn} = $3, version = version + 1 WHERE ${where} AND version = $4`, [...keys, JSON.stringify(change.value), change.readVersion])).rowCount
  }
  if (changed === 0) throw new DataConflictError(label, change.key)
}
