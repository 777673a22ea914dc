import type { QueueTables } from '../transport.js'
import { consumeRow, enqueueStatements } from './queue-statements.js'

export interface QueueTablesDeps {
  /** The queues' schema (quoted) and their NOTIFY channel. */
  schema: string
  channel: string
  /** The pool given to the transport, if one was. */
  pool: unknown
  /** The URL it connects with (given, or the given pool's). */
  connectsTo: string | undefined
  /** Whether the tables exist now (made at start, or once the database answered) and the transport runs. */
  ready: () => boolean
  /** Wakes this process's consumer of `module`, if it runs one. */
  wake: (module: string) => void
}

/**
 * The transport's queues as tables a persistence in the same database writes into (see QueueTables): the
 * same database is the same pool, or the same connection string.
 */
export function queueTablesOf(deps: QueueTablesDeps): QueueTables {
  const { schema, channel, pool, connectsTo } = deps
  return {
    sameDatabase: (database) => (pool !== undefined && database.pool === pool) || (connectsTo !== undefined && database.connectionString === connectsTo),
    get ready() {
      return deps.ready()
    },
    enqueueStatements: (deliveries) => enqueueStatements(schema, channel, deliveries.map(({ module, env, delayMs }) => ({ queue: module, env, delayMs }))),
    consumeStatement: (receipt) => consumeRow(schema, receipt),
    committed: (modules) => modules.forEach(deps.wake),
  }
}
