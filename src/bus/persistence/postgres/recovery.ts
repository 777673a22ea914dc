import type { DeliveryState, FailureRecord } from '../../delivery/delivery.js'
import type { Envelope } from '../../messages/envelope.js'
import type { PersistenceContext, Recovered } from '../persistence.js'
import type { Background } from './background.js'
import type { Connections } from './connections.js'
import type { DeliverySources } from './delivery-sources.js'
import { newDelivery } from './outbox-rows.js'
import { outsideModule } from './postgres-options.js'
import type { Relay } from './relay.js'
import { migrate } from './schema.js'
import { waitingRows } from './statements.js'

export interface RecoveryDeps {
  connections: Connections
  sources: DeliverySources
  context: PersistenceContext
  prefix: string
  schemaOf: (module: string) => string
  /** The modules whose outboxes this instance relays. */
  relayed: readonly string[]
  relay: Pick<Relay, 'claimPending'>
  background: Pick<Background, 'readSagasOf'>
}

/**
 * What a start finds in PostgreSQL: the schemas brought to this version, the pending outbox rows this
 * instance is to pass on (with the embedded transport, every one: it is the only process), and each of
 * its modules' waiting deliveries (delayed, failed, retried) and active saga instances.
 */
export async function recover(deps: RecoveryDeps): Promise<Recovered> {
  const { connections, sources, context, schemaOf } = deps
  try {
    await migrate(connections.pool, { prefix: deps.prefix, modules: [...new Set([...context.allModules, outsideModule])] })
  } catch (error) {
    throw connections.translate(error)
  }
  const queued = new Map<string, DeliveryState[]>(context.modules.map((module) => [module, []]))
  const delayed: DeliveryState[] = []
  const failed: DeliveryState[] = []
  const elsewhere: DeliveryState[] = []
  const now = context.clock.now()
  let records = 0
  try {
    // With the embedded transport this process is the only one: every pending row is its own to deliver.
    for (const module of context.reachesOtherProcesses ? deps.relayed : [...context.allModules, outsideModule]) {
      for (const state of await deps.relay.claimPending(module, !context.reachesOtherProcesses)) {
        records++
        const queue = queued.get(state.module)
        if (state.at !== undefined && state.at > now) delayed.push(state)
        else if (queue) queue.push(state)
        else elsewhere.push(state)
      }
    }
    for (const module of context.modules) {
      const schema = schemaOf(module)
      const waiting = await connections.pool.query<{ message_id: string; kind: string; envelope: Envelope; due_at: Date | null; failures: FailureRecord[]; since: Date }>(waitingRows(schema))
      for (const row of waiting.rows) {
        records++
        const state = newDelivery(row.message_id, module, row.envelope, row.due_at?.getTime(), row.since.getTime())
        state.kind = row.kind as DeliveryState['kind']
        state.failures = row.failures
        sources.set(state, { kind: 'waiting', schema })
        if (row.kind === 'delayed') delayed.push(state)
        else if (row.kind === 'failed') failed.push(state)
        else queued.get(module)!.push(state)
      }
      await deps.background.readSagasOf(module)
    }
  } catch (error) {
    throw connections.translate(error)
  }
  return { queued, delayed, failed, elsewhere, orphaned: 0, tornTails: [], records }
}
