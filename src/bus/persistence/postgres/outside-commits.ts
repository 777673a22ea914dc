import type { PoolClient } from 'pg'
import type { DeliveryState, OutgoingEntry } from '../../delivery/delivery.js'
import type { Clock } from '../../clock.js'
import type { MessageStore } from '../persistence.js'
import type { QueuedWrite } from '../../transport/transport.js'
import { returnedIds } from './batched-statements.js'
import { notifyOutside, outboxInsert } from './statements.js'
import type { Connections } from './connections.js'
import type { DeliverySources } from './delivery-sources.js'
import { isConnectionError } from './database-errors.js'
import { groupedSends } from './grouped-sends.js'
import { settleLostInsert, type PlannedInsert } from './lost-answers.js'
import { newDelivery, type DeliverySource } from './outbox-rows.js'
import { outsideModule } from './postgres-options.js'
import { enqueueOutgoing, writeOutgoing, type QueuesHere } from './queues-here.js'

export interface OutsideCommitsDeps {
  connections: Connections
  sources: DeliverySources
  schemaOf: (module: string) => string
  instanceId: string
  clock: Clock
  /** How long a send whose commit's answer was lost waits for the database to say whether it committed (ms). */
  lostAnswerWaitMs: number
  queues: QueuesHere
}

/**
 * Sends from outside handlers, into the outside's outbox: committed together while an INSERT is on its way
 * (see grouped-sends.ts), or in the caller's own transaction, which the relay passes on once it commits.
 */
export function createOutsideCommits(deps: OutsideCommitsDeps): MessageStore['commitOutside'] {
  const { connections, sources, schemaOf, instanceId, clock } = deps
  const schema = schemaOf(outsideModule)
  const lostAnswers = { connections, schema, instanceId, waitMs: deps.lostAnswerWaitMs, address: connections.address }

  /**
   * The rows' ids, in planned order (undefined: a row another instance passes on). `write`: queue rows sent
   * first in the same statement, told how it ended.
   */
  async function insertRows(insert: PlannedInsert, write: QueuedWrite | undefined): Promise<(string | undefined)[]> {
    try {
      // No connection: nothing was sent, so nothing committed (PersistenceUnavailableError, a 503 on the web).
      const client = await connections.connect()
      let result
      try {
        result = await client.query(insert.statement)
        connections.release(client)
      } catch (error) {
        connections.release(client, error)
        if (!isConnectionError(error)) throw error
        // Sent, and the connection lost before the answer: committed or not, only the database can say.
        return await settleLostInsert(lostAnswers, insert, error)
      }
      write?.committed(Array.isArray(result) ? result : [result])
      return returnedIds(result)
    } finally {
      // Not committed, or settled without its queue rows' ids: any claimed here come back when their lease ends.
      write?.abandoned()
    }
  }

  const sendFromOutside = groupedSends<{ state: DeliveryState; source: DeliverySource }>(async (msgs) => {
    const queues = deps.queues()
    // With the transport's queues in this database, the rows go into them in the same transaction, and the
    // outbox keeps its rows born dispatched: they only tell a send whose answer was lost that it committed.
    const insert = outboxInsert(schema, msgs, instanceId, queues !== undefined)
    if (!insert) return msgs.map(() => [])
    const write = queues ? writeOutgoing(queues, msgs, clock.now()) : undefined
    if (write) insert.statement = [...write.statements, insert.statement].join('; ')
    const ids = await insertRows(insert, write)
    if (queues) return msgs.map(() => [])
    const since = clock.now()
    // One result list per message, its destinations' deliveries in order.
    const byEntry = new Map<OutgoingEntry, { state: DeliveryState; source: DeliverySource }[]>(msgs.map((entry) => [entry, []]))
    insert.planned.forEach(({ entry, module }, index) => {
      const rowId = ids[index]
      if (rowId !== undefined) byEntry.get(entry)!.push({ state: newDelivery(entry.env.id, module, entry.env, entry.at, since), source: { kind: 'outbox', schema, rowId } })
    })
    return msgs.map((entry) => byEntry.get(entry)!)
  })

  return async (msgs, transaction) => {
    if (transaction !== undefined) {
      const queues = deps.queues()
      // Into their queues, in the caller's transaction: they leave if, and once, it commits.
      if (queues) {
        const statements = enqueueOutgoing(queues, msgs, clock.now())
        if (statements.length > 0) await (transaction as PoolClient).query(statements.join('; '))
        return []
      }
      // Unclaimed: the relay takes the rows once the caller's transaction has committed them.
      const insert = outboxInsert(schema, msgs, null)
      // With a NOTIFY, which PostgreSQL delivers to the listening instances only if, and once, this commits.
      if (insert) await (transaction as PoolClient).query(`${insert.statement}; ${notifyOutside(schema)}`)
      return []
    }
    return sources.track(await sendFromOutside(msgs))
  }
}
