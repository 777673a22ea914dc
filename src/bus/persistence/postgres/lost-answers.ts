import { PersistenceUnavailableError, SendOutcomeUnknownError } from '../../errors.js'
import type { OutgoingEntry } from '../../delivery/delivery.js'
import { returnedIds } from './batched-statements.js'
import { lockOutboxWrites, outboxRowsOf, renewClaims } from './statements.js'
import type { Connections } from './connections.js'
import { isConnectionError } from './database-errors.js'

/** An INSERT of outbox rows, one per planned (message, destination), as outboxInsert makes it (with their queue rows before it, when the queues are in this database). */
export interface PlannedInsert {
  statement: string
  planned: readonly { entry: OutgoingEntry; module: string }[]
}

export interface LostAnswerDeps {
  connections: Connections
  /** The outbox's schema (quoted). */
  schema: string
  instanceId: string
  /** How long the database may stay away before the caller is told the outcome is unknown. */
  waitMs: number
  /** Where the database is, for the error's message. */
  address: string
  /** Pause between two tries while the database is away. */
  retryEveryMs?: number
}

/**
 * An INSERT of sends from outside handlers whose answer was lost with its connection (the server restarted,
 * the network dropped): it may have committed, or not. Telling the caller it failed when it went through is
 * how a shop answers "not placed" and then ships the order; so the question is asked once the database
 * answers again. Under a lock that waits for every INSERT into the outbox still under way (the lost one,
 * if its server process has not finished it yet), the rows are looked for: found, they are the send's;
 * not found, nothing was committed and they are written now. The lock is self-exclusive, so two instances
 * settling at once take turns instead of deadlocking. Returns each planned row's id, in order, or
 * undefined for a row another instance has taken over already (it passes that one on). Throws
 * SendOutcomeUnknownError if the database stays away for `waitMs`.
 */
export async function settleLostInsert(deps: LostAnswerDeps, insert: PlannedInsert, lostWith: unknown): Promise<(string | undefined)[]> {
  const { connections, schema, instanceId } = deps
  const messageIds = [...new Set(insert.planned.map(({ entry }) => entry.env.id))]
  const deadline = Date.now() + deps.waitMs
  let lastError = lostWith
  for (;;) {
    try {
      return await connections.inTransaction(async (client) => {
        await client.query(lockOutboxWrites(schema))
        const { rows } = await client.query<{ id: string; message_id: string; module: string; claimed_by: string | null; dispatched: boolean }>(outboxRowsOf(schema), [messageIds])
        if (rows.length === 0) return returnedIds(await client.query(insert.statement))
        // Committed after all. Rows still this instance's are claimed afresh (nobody takes them over while it
        // passes them on); a row another instance took over meanwhile is that one's to pass on.
        const ours = rows.filter((row) => row.claimed_by === instanceId && !row.dispatched)
        await client.query(renewClaims(schema), [ours.map((row) => row.id)])
        const idOf = new Map(ours.map((row) => [`${row.message_id}\n${row.module}`, row.id]))
        return insert.planned.map(({ entry, module }) => idOf.get(`${entry.env.id}\n${module}`))
      })
    } catch (error) {
      // A statement that failed (not the connection) is the caller's to hear; the connection lost again
      // (this transaction's own COMMIT answer among them) is asked again, as long as the caller waits.
      if (!(error instanceof PersistenceUnavailableError) && !isConnectionError(error)) throw error
      lastError = error
    }
    if (Date.now() >= deadline) throw new SendOutcomeUnknownError(deps.address, messageIds, deps.waitMs, { cause: lastError })
    await new Promise((resolve) => setTimeout(resolve, deps.retryEveryMs ?? 200))
  }
}
