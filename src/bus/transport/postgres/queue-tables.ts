import type { QueuedDelivery, QueuedWrite, QueueTables } from '../transport.js'
import type { ClaimedRow } from './queue-consumer.js'
import { consumeRow, enqueueClaimed, enqueueStatements, type QueuedRow } from './queue-statements.js'

/** What a local module's consumer offers a write: a slot kept, then the row handed to it, or the slot freed. */
export interface AdoptingConsumer {
  reserve(): boolean
  unreserve(): void
  adopt(row: ClaimedRow): void
}

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
  /** This process's consumer of `module`, if it runs one. */
  consumerOf: (module: string) => (AdoptingConsumer & { wake(): void }) | undefined
  /** Who claims here, and for how long. */
  consumerId: string
  leaseMs: number
}

/**
 * The transport's queues as tables a persistence in the same database writes into (see QueueTables): the
 * same database is the same pool, or the same connection string.
 */
export function queueTablesOf(deps: QueueTablesDeps): QueueTables {
  const { schema, channel, pool, connectsTo } = deps
  const asRow = ({ module, env, delayMs }: QueuedDelivery): QueuedRow => ({ queue: module, env, delayMs })
  return {
    sameDatabase: (database) => (pool !== undefined && database.pool === pool) || (connectsTo !== undefined && database.connectionString === connectsTo),
    get ready() {
      return deps.ready()
    },
    enqueueStatements: (deliveries) => enqueueStatements(schema, channel, deliveries.map(asRow)),
    enqueueForCommit: (deliveries) => writeForCommit(deps, deliveries.map(asRow)),
    consumeStatement: (receipt) => consumeRow(schema, receipt),
  }
}

/** Rows for local consumers with room written claimed by them (handed over at the commit), the others as usual. */
function writeForCommit(deps: QueueTablesDeps, rows: readonly QueuedRow[]): QueuedWrite {
  const claimed: { row: QueuedRow; consumer: AdoptingConsumer }[] = []
  const open: QueuedRow[] = []
  for (const row of rows) {
    const consumer = row.delayMs <= 0 ? deps.consumerOf(row.queue) : undefined
    if (consumer?.reserve()) claimed.push({ row, consumer })
    else open.push(row)
  }
  const statements = open.length > 0 ? enqueueStatements(deps.schema, deps.channel, open) : []
  const claimedAt = statements.length
  if (claimed.length > 0) statements.push(enqueueClaimed(deps.schema, claimed.map(({ row }) => row), deps.leaseMs, deps.consumerId))
  let over = false
  return {
    statements,
    committed(results) {
      if (over) return
      over = true
      const written = new Map(((results[claimedAt]?.rows ?? []) as { id: string; queue: string; message_id: string }[]).map((row) => [`${row.queue}\n${row.message_id}`, row.id]))
      for (const { row, consumer } of claimed) {
        const id = written.get(`${row.queue}\n${row.env.id}`)
        if (id === undefined) consumer.unreserve()
        else consumer.adopt({ id, envelope: row.env, failures: null })
      }
      // This process's consumers of the other rows look at once, not after the NOTIFY's trip through the server.
      for (const queue of new Set(open.filter((row) => row.delayMs <= 0).map((row) => row.queue))) deps.consumerOf(queue)?.wake()
    },
    abandoned() {
      if (over) return
      over = true
      // Written claimed, if the transaction did commit after all: they come back to anyone when the lease ends.
      for (const { consumer } of claimed) consumer.unreserve()
    },
  }
}
