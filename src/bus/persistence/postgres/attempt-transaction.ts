import type { PoolClient } from 'pg'
import { auditedStep } from '../../audit/audited-step.js'
import type { TableDefinition } from '../../data/define-table.js'
import type { Table } from '../../data/table.js'
import { DataConflictError, UndeclaredTableError } from '../../errors.js'
import type { DeliveryState } from '../../outbox/delivery-ledger.js'
import type { FailureRecord, OutgoingEntry } from '../../outbox/record.js'
import type { SagaChange, SagaInstance } from '../../sagas/saga-store.js'
import type { AttemptTransaction } from '../persistence.js'
import { idsInOrder, literal, outboxInsert, runBatch } from './batched-statements.js'
import { newDelivery, type DeliverySource } from './outbox-rows.js'
import { TransactionTable } from './transaction-table.js'

/** What an attempt's transaction needs from the persistence that began it. */
export interface TransactionScope {
  prefix: string
  /** The module's schema, quoted. */
  schema: string
  module: string
  tables: readonly TableDefinition[]
  audit: boolean
  instanceId: string
  now: () => number
  sourceOf: (state: DeliveryState) => DeliverySource | undefined
  /** Called after the commit: the deliveries it produced, with where each row is. */
  committed: (produced: { state: DeliveryState; source: DeliverySource }[], sagas: readonly SagaChange[]) => void
  /** Called once the transaction is over, with the error that broke the connection if one did. */
  release: (client: PoolClient, broken?: unknown) => void
  /** Turns a connection failure into PersistenceUnavailableError. */
  translate: (error: unknown) => unknown
}

/**
 * One attempt at one delivery, inside one PostgreSQL transaction, begun with the module's inbox mark.
 * Saga instances and documents it reads stay locked until it ends; the handlers' own SQL runs on `session`.
 * `commit` writes the staged documents, the saga changes, the outgoing messages, the audit step and the end
 * of the delivery's source (its outbox row dispatched, or its waiting row gone), then commits: all or nothing.
 */
export class PostgresAttemptTransaction implements AttemptTransaction {
  readonly #tables = new Map<TableDefinition, TransactionTable>()
  /** The saga instances read: whether each existed (an insert of one that did not may meet another's). */
  readonly #sagasRead = new Map<string, boolean>()
  #over = false

  constructor(
    private readonly scope: TransactionScope,
    private readonly state: DeliveryState,
    private readonly client: PoolClient,
  ) {}

  get session(): PoolClient {
    return this.client
  }

  table<Doc>(definition: TableDefinition): Table<Doc> {
    let table = this.#tables.get(definition)
    if (!table) {
      if (!this.scope.tables.includes(definition)) throw new UndeclaredTableError(definition?.name ?? String(definition), this.scope.module)
      this.#tables.set(definition, (table = new TransactionTable(this.client, this.scope.prefix, this.scope.module, definition)))
    }
    return table as Table<Doc>
  }

  async saga(saga: string, correlationId: string): Promise<SagaInstance | undefined> {
    const { rows } = await this.client.query<{ data: unknown; instance: string }>(`SELECT data, instance FROM ${this.scope.schema}.sagas WHERE saga = $1 AND correlation_id = $2 FOR UPDATE`, [saga, correlationId])
    const row = rows[0]
    this.#sagasRead.set(`${saga}\u0000${correlationId}`, row !== undefined)
    return row ? { saga, id: correlationId, instance: row.instance, data: row.data } : undefined
  }

  async commit(msgs: OutgoingEntry[], sagas: SagaChange[], audit: { failures?: readonly FailureRecord[]; sagas?: readonly string[] } | undefined): Promise<DeliveryState[]> {
    const { client, scope, state } = this
    const { schema } = scope
    try {
      // Writes whose outcome decides whether the attempt may commit (a conflict runs it again), one by one.
      for (const table of this.#tables.values()) await table.write()
      for (const change of sagas) await this.#writeSaga(change)
      // The rest, and the commit, in one round trip.
      const outgoing = outboxInsert(schema, msgs, scope.instanceId)
      const tail: string[] = outgoing ? [outgoing.statement] : []
      if (scope.audit && state.env) {
        const step = auditedStep(scope.module, state.env, 'handled', scope.now(), { ...audit, published: msgs })
        tail.push(auditInsert(schema, step.conversationId, step.steps))
      }
      tail.push('COMMIT')
      const results = await runBatch(client, tail)
      this.#end()
      state.kind = 'handled'
      const since = scope.now()
      const ids = outgoing ? idsInOrder(results[0]!.rows as { id: string }[]) : []
      const produced = (outgoing?.planned ?? []).map(({ entry, module }, index) => ({
        state: newDelivery(entry.env.id, module, entry.env, entry.at, since),
        source: { kind: 'outbox' as const, schema, rowId: ids[index]! },
      }))
      scope.committed(produced, sagas)
      return produced.map(({ state: delivery }) => delivery)
    } catch (error) {
      throw scope.translate(error)
    }
  }

  async rollback(): Promise<void> {
    if (this.#over) return
    try {
      await this.client.query('ROLLBACK')
      this.#end()
    } catch (error) {
      this.#end(error)
    }
  }

  async #writeSaga(change: SagaChange): Promise<void> {
    const { client, scope } = this
    const existed = this.#sagasRead.get(`${change.saga}\u0000${change.id}`) ?? false
    if (change.done) {
      await client.query(`DELETE FROM ${scope.schema}.sagas WHERE saga = $1 AND correlation_id = $2`, [change.saga, change.id])
      return
    }
    const data = JSON.stringify(change.data)
    if (existed) {
      await client.query(`UPDATE ${scope.schema}.sagas SET data = $3, version = version + 1 WHERE saga = $1 AND correlation_id = $2`, [change.saga, change.id, data])
      return
    }
    const inserted = await client.query(`INSERT INTO ${scope.schema}.sagas (saga, correlation_id, data, instance) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [change.saga, change.id, data, change.instance ?? ''])
    // Another instance started the same saga instance meanwhile: run again, with its data.
    if (inserted.rowCount === 0) throw new DataConflictError(`saga ${change.saga}`, change.id)
  }

  #end(broken?: unknown): void {
    if (this.#over) return
    this.#over = true
    this.scope.release(this.client, broken)
  }
}

/** The statement by which the delivery's message leaves the place that kept it: its outbox row is dispatched, or its waiting row goes. */
export function consumeSourceStatement(source: DeliverySource | undefined, messageId: string): string | undefined {
  if (source?.kind === 'outbox') return `UPDATE ${source.schema}.outbox SET dispatched_at = now() WHERE id = ${literal(source.rowId)}`
  if (source?.kind === 'waiting') return `DELETE FROM ${source.schema}.waiting WHERE message_id = ${literal(messageId)}`
  return undefined
}

export async function consumeSource(client: PoolClient, source: DeliverySource | undefined, messageId: string): Promise<void> {
  const statement = consumeSourceStatement(source, messageId)
  if (statement) await client.query(statement)
}

/** The audit's rows for a conversation's steps (one per step, in order). */
export function auditInsert(schema: string, conversationId: string, steps: readonly unknown[]): string {
  return `INSERT INTO ${schema}.audit (conversation_id, step) VALUES ${steps.map((step) => `(${literal(conversationId)}, ${literal(JSON.stringify(step))}::jsonb)`).join(', ')}`
}

export async function insertAudit(client: PoolClient, schema: string, conversationId: string, steps: readonly unknown[]): Promise<void> {
  if (steps.length > 0) await client.query(auditInsert(schema, conversationId, steps))
}
