import type { OutgoingEntry } from '../../delivery/delivery.js'
import type { QueueTables } from '../../transport/transport.js'
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

/** The statements that put `msgs` in their modules' queues (a row per destination), each visible at its `at`. */
export function enqueueOutgoing(queues: QueueTables, msgs: readonly OutgoingEntry[], now: number): string[] {
  const rows = msgs.flatMap((entry) => entry.to.map((module) => ({ module, env: entry.env, delayMs: entry.at === undefined ? 0 : Math.max(0, entry.at - now) })))
  return rows.length > 0 ? queues.enqueueStatements(rows) : []
}

/** `msgs` committed into their queues: the modules with a row visible now are looked at by this process's consumers at once. */
export function enqueuedOutgoing(queues: QueueTables, msgs: readonly OutgoingEntry[], now: number): void {
  const ready = new Set<string>()
  for (const entry of msgs) if (entry.at === undefined || entry.at <= now) for (const module of entry.to) ready.add(module)
  if (ready.size > 0) queues.committed([...ready])
}
