import type { PoolClient } from 'pg'
import { auditedStep } from '../../audit/audited-step.js'
import type { TableDefinition } from '../../data/define-table.js'
import type { Table } from '../../data/table.js'
import { DataConflictError, UndeclaredTableError } from '../../errors.js'
import type { DeliveryState } from '../../delivery/delivery.js'
import type { FailureRecord, OutgoingEntry } from '../../delivery/delivery.js'
import type { SagaChange, SagaInstance } from '../../sagas/saga-store.js'
import type { QueuedWrite } from '../../transport/transport.js'
import { AlreadyHandledError, type AttemptTransaction } from '../persistence.js'
import { idsInOrder, runBatch } from './batched-statements.js'
import { auditInsert, consumeSourceStatement, deleteSaga, inboxMark, insertSaga, outboxInsert, sagaForUpdate, updateSaga } from './statements.js'
import { newDelivery, type DeliverySource } from './outbox-rows.js'
import { writeOutgoing, type QueuesHere } from './queues-here.js'
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
  /** The transport's queues, when a commit here writes into them (see queues-here.ts). */
  queues: QueuesHere
  /** A connection from the pool (PersistenceUnavailableError when there is none to be had). */
  connect: () => Promise<PoolClient>
  /** The delivery was handled already: whatever it sent that has not left is passed on. */
  handledAlready: (state: DeliveryState) => void
  /** Called after the commit of `state`'s attempt: the deliveries it produced, with where each row is. */
  committed: (state: DeliveryState, produced: { state: DeliveryState; source: DeliverySource }[], sagas: readonly SagaChange[]) => void
  /** Called once the transaction is over, with the error that broke the connection if one did. */
  release: (client: PoolClient, broken?: unknown) => void
  /** Turns a connection failure into PersistenceUnavailableError. */
  translate: (error: unknown) => unknown
}

/**
 * One attempt at one delivery, inside one PostgreSQL transaction that begins with the module's inbox mark
 * and the end of the delivery's source (its outbox row dispatched, or its waiting row gone). Saga instances
 * and documents it reads stay locked until it ends; the handlers' own SQL runs on `session()`.
 *
 * The transaction opens when first needed: at once for a broker's message (`open()`: another instance may
 * be handling the same message, and waits at the inbox mark), at the first read or SQL otherwise, or at the
 * commit, which then sends everything (BEGIN, the inbox mark, the writes, the outgoing messages, the audit
 * step, COMMIT) in one round trip: a handler that only writes costs one round trip and holds no connection
 * while it runs. A message the module handled already is an AlreadyHandledError, wherever it shows.
 */
export class PostgresAttemptTransaction implements AttemptTransaction {
  readonly #tables = new Map<TableDefinition, TransactionTable>()
  /** The saga instances read: whether each existed (an insert of one that did not may meet another's). */
  readonly #sagasRead = new Map<string, boolean>()
  #client: PoolClient | undefined
  #opening: Promise<PoolClient> | undefined
  #over = false

  constructor(
    private readonly scope: TransactionScope,
    private readonly state: DeliveryState,
  ) {}

  /** Opens the transaction (once): a connection, BEGIN, the inbox mark and the source's end. */
  open(): Promise<PoolClient> {
    return (this.#opening ??= this.#open())
  }

  session(): Promise<PoolClient> {
    return this.open()
  }

  table<Doc>(definition: TableDefinition): Table<Doc> {
    let table = this.#tables.get(definition)
    if (!table) {
      if (!this.scope.tables.includes(definition)) throw new UndeclaredTableError(definition?.name ?? String(definition), this.scope.module)
      this.#tables.set(definition, (table = new TransactionTable(() => this.open(), this.scope.prefix, this.scope.module, definition)))
    }
    return table as Table<Doc>
  }

  async saga(saga: string, correlationId: string): Promise<SagaInstance | undefined> {
    const client = await this.open()
    const { rows } = await client.query<{ data: unknown; instance: string }>(sagaForUpdate(this.scope.schema), [saga, correlationId])
    const row = rows[0]
    this.#sagasRead.set(`${saga}\u0000${correlationId}`, row !== undefined)
    return row ? { saga, id: correlationId, instance: row.instance, data: row.data } : undefined
  }

  async commit(msgs: OutgoingEntry[], sagas: SagaChange[], audit: { failures?: readonly FailureRecord[]; sagas?: readonly string[] } | undefined): Promise<DeliveryState[]> {
    const { scope, state } = this
    const { schema } = scope
    /** The queue rows of what it sends, when the transport's queues are in this database. */
    let write: QueuedWrite | undefined
    try {
      // Saga writes need the open transaction (whether each instance existed decides insert or update):
      // an attempt that changes sagas without having read them opens it now rather than drop the changes.
      let client = this.#client ?? (sagas.length > 0 ? await this.open() : undefined)
      const statements: string[] = []
      if (client) {
        // Writes whose outcome decides whether the attempt may commit (a conflict runs it again), one by one.
        for (const table of this.#tables.values()) await table.writeChecked(client)
        for (const change of sagas) await this.#writeSaga(client, change)
      } else {
        // Nothing read, nothing locked yet: the whole transaction goes in the round trip below. Without
        // ON CONFLICT, a message handled already fails the inbox mark, and with it the batch.
        client = this.#client = await scope.connect()
        statements.push('BEGIN', inboxMark(schema, state.id, false), ...this.#consumeStatements())
      }
      for (const table of this.#tables.values()) statements.push(...table.batchedWrites())
      // The transport's queues in this database: the sends go into them in this transaction, not through the outbox.
      const queues = scope.queues()
      const outgoing = queues ? undefined : outboxInsert(schema, msgs, scope.instanceId)
      write = queues ? writeOutgoing(queues, msgs, scope.now()) : undefined
      const outboxAt = statements.length
      if (outgoing) statements.push(outgoing.statement)
      else if (write) statements.push(...write.statements)
      if (scope.audit && state.env) {
        const step = auditedStep(scope.module, state.env, 'handled', scope.now(), { ...audit, published: msgs })
        statements.push(auditInsert(schema, step.conversationId, step.steps))
      }
      statements.push('COMMIT')
      let results
      try {
        results = await runBatch(client, statements)
      } catch (error) {
        if (isInboxConflict(error)) throw this.#handledAlready()
        throw error
      }
      this.#end()
      state.kind = 'handled'
      const since = scope.now()
      const ids = outgoing ? idsInOrder(results[outboxAt]!.rows as { id: string }[]) : []
      const produced = (outgoing?.planned ?? []).map(({ entry, module }, index) => ({
        state: newDelivery(entry.env.id, module, entry.env, entry.at, since),
        source: { kind: 'outbox' as const, schema, rowId: ids[index]! },
      }))
      scope.committed(state, produced, sagas)
      // Last: rows written claimed by this process's consumers are theirs now.
      write?.committed(results.slice(outboxAt))
      return produced.map(({ state: delivery }) => delivery)
    } catch (error) {
      write?.abandoned()
      throw scope.translate(error)
    }
  }

  async rollback(): Promise<void> {
    if (this.#over) return
    await this.#opening?.catch(() => undefined)
    const client = this.#client
    if (!client) {
      this.#over = true
      return
    }
    await this.#rollbackOpen(client)
  }

  async #open(): Promise<PoolClient> {
    const { scope, state } = this
    const client = (this.#client = await scope.connect())
    try {
      // The inbox mark first: another instance handling the same message waits here for its outcome.
      const [, marked] = await runBatch(client, ['BEGIN', inboxMark(scope.schema, state.id, true), ...this.#consumeStatements()])
      if (marked!.rowCount === 0) throw this.#handledAlready()
      return client
    } catch (error) {
      // Nothing more happens in this transaction: end it here, whoever began it.
      await this.#rollbackOpen(client)
      if (error instanceof AlreadyHandledError) throw error
      throw scope.translate(error)
    }
  }

  async #rollbackOpen(client: PoolClient): Promise<void> {
    try {
      await client.query('ROLLBACK')
      this.#end()
    } catch (rollbackError) {
      this.#end(rollbackError)
    }
  }

  /** The statement that ends the delivery's source, if it has one here (a broker's message has none). */
  #consumeStatements(): string[] {
    const statement = consumeSourceStatement(this.scope.sourceOf(this.state), this.state.id)
    return statement ? [statement] : []
  }

  /** The module handled this message already (this instance or another): settled as handled, nothing runs. */
  #handledAlready(): AlreadyHandledError {
    this.state.kind = 'handled'
    this.scope.handledAlready(this.state)
    return new AlreadyHandledError(this.state.id, this.scope.module)
  }

  async #writeSaga(client: PoolClient, change: SagaChange): Promise<void> {
    const { scope } = this
    const existed = this.#sagasRead.get(`${change.saga}\u0000${change.id}`) ?? false
    if (change.done) {
      await client.query(deleteSaga(scope.schema), [change.saga, change.id])
      return
    }
    const data = JSON.stringify(change.data)
    if (existed) {
      await client.query(updateSaga(scope.schema), [change.saga, change.id, data])
      return
    }
    const inserted = await client.query(insertSaga(scope.schema), [change.saga, change.id, data, change.instance ?? ''])
    // Another instance started the same saga instance meanwhile: run again, with its data.
    if (inserted.rowCount === 0) throw new DataConflictError(`saga ${change.saga}`, change.id)
  }

  #end(broken?: unknown): void {
    if (this.#over) return
    this.#over = true
    if (this.#client) this.scope.release(this.#client, broken)
  }
}

/** The inbox's primary key refused the mark: the message was handled (committed) by then. */
function isInboxConflict(error: unknown): boolean {
  const { code, constraint } = error as { code?: unknown; constraint?: unknown }
  return code === '23505' && constraint === 'inbox_pkey'
}
