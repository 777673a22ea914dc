import type { OutgoingEntry } from '../../delivery/delivery.js'
import type { QueuedDelivery, QueuedWrite, QueueTables } from '../../transport/transport.js'
import type { PostgresPersistenceOptions } from './postgres-options.js'

/**
 * The transport's queues, when they are tables of this persistence's database (the PostgreSQL transport on the
 * same pool or connection string): then a handler's sends go into them inside its own transaction, with the
 * handled message's row deleted, and a send from outside is one INSERT. Undefined otherwise, and until the
 * transport has made its tables: then the outbox and its relay carry the messages, as with any transport.
 */
export type QueuesHere = () => QueueTables | undefined

export function queuesHere(queues: QueueTables | undefined, options: PostgresPersistenceOptions): QueuesHere {
  const same = queues?.sameDatabase({ pool: options.pool, connectionString: options.connectionString }) ?? false
  return () => (same && queues!.ready ? queues : undefined)
}

/** The deliveries of `msgs` (a row per destination), each visible at its `at`. */
function queued(msgs: readonly OutgoingEntry[], now: number): QueuedDelivery[] {
  return msgs.flatMap((entry) => entry.to.map((module) => ({ module, env: entry.env, delayMs: entry.at === undefined ? 0 : Math.max(0, entry.at - now) })))
}

/** The statements that put `msgs` in their modules' queues, in a caller's transaction. */
export function enqueueOutgoing(queues: QueueTables, msgs: readonly OutgoingEntry[], now: number): string[] {
  const rows = queued(msgs, now)
  return rows.length > 0 ? queues.enqueueStatements(rows) : []
}

/** The same for a transaction of this persistence's, which tells the write how it ended; undefined when there is nothing to send. */
export function writeOutgoing(queues: QueueTables, msgs: readonly OutgoingEntry[], now: number): QueuedWrite | undefined {
  const rows = queued(msgs, now)
  return rows.length > 0 ? queues.enqueueForCommit(rows) : undefined
}
