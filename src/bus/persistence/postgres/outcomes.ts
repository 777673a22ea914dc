import type { PoolClient } from 'pg'
import { auditedStep } from '../../audit/audited-step.js'
import type { StepOutcome } from '../../audit/conversation-step.js'
import type { DeliveryState, FailureRecord, OutgoingEntry } from '../../delivery/delivery.js'
import type { Envelope } from '../../messages/envelope.js'
import type { SagaChange } from '../../sagas/saga-store.js'
import { AlreadyHandledError, type AttemptTransactions, type HandledAudit, type MessageStore, type BrokerInbox, type PersistenceContext } from '../persistence.js'
import type { Connections } from './connections.js'
import type { DeliverySources } from './delivery-sources.js'
import type { DeliverySource } from './outbox-rows.js'
import { auditInsert, consumeSourceStatement, markArchived, markDispatched, markRetried, upsertWaiting } from './statements.js'

export interface OutcomesDeps {
  connections: Connections
  sources: DeliverySources
  context: PersistenceContext
  schemaOf: (module: string) => string
  transactions: AttemptTransactions
}

/**
 * What deliveries came to, outside the pipeline's attempts (which commit their own transactions): a delayed
 * retry or a failure keeps the message in the module's waiting table, a person's retry or delete marks it
 * there, each in one transaction with its audit step; a broker that took outbox rows marks them dispatched.
 */
export function createOutcomes(deps: OutcomesDeps): Pick<MessageStore, 'commit'> & Pick<BrokerInbox, 'forwarded'> {
  const { connections, sources, context, schemaOf } = deps

  /** A delivery's outcome other than handled, in one transaction with its audit step. */
  async function commitOutcome(module: string, env: Envelope, outcome: StepOutcome, failures: readonly FailureRecord[] | undefined, write: (client: PoolClient, schema: string) => Promise<unknown>): Promise<void> {
    const schema = schemaOf(module)
    await connections.inTransaction(async (client) => {
      await write(client, schema)
      if (context.audit) {
        const step = auditedStep(module, env, outcome, context.clock.now(), failures ? { failures } : undefined)
        await insertAudit(client, schema, step.conversationId, step.steps)
      }
    })
  }

  async function keepWaiting(module: string, state: DeliveryState, env: Envelope, kind: 'delayed' | 'failed', at: number | undefined, failures: FailureRecord[]): Promise<DeliveryState[]> {
    await commitOutcome(module, env, kind === 'delayed' ? 'delayed-retry' : 'error-queue', failures, async (client, schema) => {
      await client.query(upsertWaiting(schema), [state.id, kind, JSON.stringify(env), at === undefined ? null : new Date(at), JSON.stringify(failures)])
      const source = sources.get(state)
      if (source?.kind === 'outbox') await consumeSource(client, source, state.id)
    })
    state.kind = kind
    state.env = env
    state.at = at
    state.failures = failures
    sources.set(state, { kind: 'waiting', schema: schemaOf(module) })
    return []
  }

  /** A handled outcome outside an attempt: a transaction with no handler work. */
  async function commitHandled(module: string, state: DeliveryState, sent: OutgoingEntry[], changes: SagaChange[], audit: HandledAudit | undefined): Promise<DeliveryState[]> {
    const transaction = await deps.transactions.begin(module, state).catch((error: unknown) => {
      if (error instanceof AlreadyHandledError) return undefined
      throw error
    })
    if (!transaction) return []
    try {
      return await transaction.commit(sent, changes, audit)
    } catch (error) {
      await transaction.rollback()
      if (error instanceof AlreadyHandledError) return []
      throw error
    }
  }

  return {
    async commit(module, state, outcome) {
      switch (outcome.kind) {
        case 'handled':
          return commitHandled(module, state, outcome.sent, outcome.sagas ?? [], outcome.audit)
        case 'delayed':
          return keepWaiting(module, state, outcome.env, 'delayed', outcome.at, outcome.failures)
        case 'failed':
          return keepWaiting(module, state, outcome.env, 'failed', undefined, outcome.failures)
        case 'retried':
          await commitOutcome(module, outcome.env, 'retried', undefined, (client, schema) => client.query(markRetried(schema), [state.id, JSON.stringify(outcome.env)]))
          state.kind = 'retried'
          state.env = outcome.env
          return []
        case 'archived':
          await commitOutcome(module, state.env!, 'archived', undefined, (client, schema) => client.query(markArchived(schema), [state.id]))
          state.kind = 'archived'
          return []
        case 'parked':
          // The broker holds it (a delay queue, its error queue): nothing to keep here.
          state.kind = 'parked'
          return []
      }
    },
    async forwarded(states) {
      const bySchema = new Map<string, string[]>()
      for (const state of states) {
        const source = sources.get(state)
        if (source?.kind !== 'outbox') continue
        const ids = bySchema.get(source.schema)
        if (ids) ids.push(source.rowId)
        else bySchema.set(source.schema, [source.rowId])
      }
      try {
        for (const [schema, ids] of bySchema) await connections.pool.query(markDispatched(schema), [ids])
      } catch (error) {
        throw connections.translate(error)
      }
      for (const state of states) if (state.kind === undefined) state.kind = 'forwarded'
    },
  }
}

async function consumeSource(client: PoolClient, source: DeliverySource | undefined, messageId: string): Promise<void> {
  const statement = consumeSourceStatement(source, messageId)
  if (statement) await client.query(statement)
}

async function insertAudit(client: PoolClient, schema: string, conversationId: string, steps: readonly unknown[]): Promise<void> {
  if (steps.length > 0) await client.query(auditInsert(schema, conversationId, steps))
}
