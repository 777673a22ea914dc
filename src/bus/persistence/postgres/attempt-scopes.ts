import type { DeliveryState } from '../../delivery/delivery.js'
import type { SagaStore } from '../../sagas/saga-store.js'
import type { AttemptTransaction, AttemptTransactions, PersistenceContext } from '../persistence.js'
import { PostgresAttemptTransaction, type TransactionScope } from './attempt-transaction.js'
import type { Connections } from './connections.js'
import { isCollision } from './database-errors.js'
import type { DeliverySources } from './delivery-sources.js'
import type { QueuesHere } from './queues-here.js'
import type { Relay } from './relay.js'

export interface AttemptScopesDeps {
  connections: Connections
  sources: DeliverySources
  context: PersistenceContext
  prefix: string
  schemaOf: (module: string) => string
  instanceId: string
  /** The active saga instances the console reads: each commit applies its changes. */
  sagas: SagaStore
  relay: Pick<Relay, 'relayLeftBehind'>
  queues: QueuesHere
}

/** Attempts at messages, each in a transaction of its own (attempt-transaction.ts), with what each module's attempts share. */
export function createAttemptTransactions(deps: AttemptScopesDeps): AttemptTransactions {
  const { connections, sources, context } = deps
  const scopes = new Map<string, TransactionScope>()

  function scopeOf(module: string): TransactionScope {
    let scope = scopes.get(module)
    if (!scope) {
      scope = {
        prefix: deps.prefix,
        schema: deps.schemaOf(module),
        module,
        tables: context.tables.get(module) ?? [],
        audit: context.audit,
        instanceId: deps.instanceId,
        now: () => context.clock.now(),
        sourceOf: (state) => sources.get(state),
        queues: deps.queues,
        connect: () => connections.connect(),
        handledAlready: (state) => void deps.relay.relayLeftBehind(module, state.id),
        committed(state, produced, changes) {
          sources.committed(state)
          sources.track(produced)
          for (const change of changes) deps.sagas.apply(module, change)
        },
        release: (client, broken) => connections.release(client, broken),
        translate: connections.translate,
      }
      scopes.set(module, scope)
    }
    return scope
  }

  return {
    async begin(module: string, state: DeliveryState): Promise<AttemptTransaction> {
      const transaction = new PostgresAttemptTransaction(scopeOf(module), state)
      // A broker's message may be on its way to another instance as well (a redelivery after a lost ack):
      // the inbox mark comes first, before any handler runs. Ours (an outbox row of this process) opens when needed.
      if (!sources.has(state)) await transaction.open()
      return transaction
    },
    isConflict: isCollision,
  }
}
