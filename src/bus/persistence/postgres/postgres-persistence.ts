import { hostname } from 'node:os'
import { randomUUID } from 'node:crypto'
import pg, { type PoolClient, type PoolConfig } from 'pg'
import { auditedStep } from '../../audit/audited-step.js'
import type { ConversationStep, StepOutcome } from '../../audit/conversation-step.js'
import type { TableDefinition } from '../../data/define-table.js'
import { InvalidBusOptionError } from '../../errors.js'
import type { Envelope } from '../../messages/envelope.js'
import type { DeliveryState } from '../../delivery/delivery.js'
import type { FailureRecord, OutgoingEntry } from '../../delivery/delivery.js'
import { SagaStore, type SagaChange } from '../../sagas/saga-store.js'
import { AlreadyHandledError, type AttemptTransaction, type HandledAudit, type Persistence, type PersistenceContext, type PersistenceFactory, type Recovered } from '../persistence.js'
import { consumeSource, insertAudit, PostgresAttemptTransaction, type TransactionScope } from './attempt-transaction.js'
import { asPersistenceError, isCollision, postgresAddress } from './database-errors.js'
import { readDocuments, type Queryable } from './documents.js'
import { groupedSends } from './grouped-sends.js'
import { idsInOrder, inRowOrder, olderThan, outboxInsert } from './batched-statements.js'
import { newDelivery, type DeliverySource, type OutboxRowRead } from './outbox-rows.js'
import { listenForOutsideSends } from './outside-listener.js'
import { identifier, migrate, moduleSchema } from './schema.js'

export interface PostgresPersistenceOptions {
  /** The server, e.g. `postgres://user@127.0.0.1:5432/shop`. Either this or `pool`. */
  connectionString?: string
  /** A pool of your own (its connections are shared with your code; the bus does not end it). */
  pool?: pg.Pool
  /** Names of the schemas: `<prefix>` and `<prefix>_<module>`. @default 'mailroom' */
  prefix?: string
  /** Connections in the bus's own pool (not with `pool`). @default the modules' concurrency here (each attempt holds one), plus 4 for sends from outside, reads and the relay (more queue for them) */
  maxConnections?: number
  /** How often sends committed in a caller's own transaction are looked for (ms); rows a writer lost, in every schema, four times per `takeOverAfterMs`. @default 250 */
  relayEveryMs?: number
  /** How long a row claimed by another instance may stay undispatched before this one relays it (ms). @default 30000 */
  takeOverAfterMs?: number
  /** How long inbox marks (deduplication) and dispatched outbox rows are kept (ms). @default 604800000 (7 days) */
  keepHandledMs?: number
}

/** The schema of messages sent from outside any handler. */
const outsideModule = '_outside'
/** How often, with a broker, the console's view of active saga instances is read again (other instances change them). */
const sagaListEveryMs = 2_000
const knownOptions = ['connectionString', 'pool', 'prefix', 'maxConnections', 'relayEveryMs', 'takeOverAfterMs', 'keepHandledMs']
/** Rows relayed per schema per pass. */
const relayBatch = 500

/**
 * The PostgreSQL persistence: `createBus({ persistence: postgresPersistence({ connectionString }) })`. Every
 * module has a schema of its own, shared by all its instances (docs/postgres.md): the inbox, the outbox, saga
 * instances, its tables' documents, its waiting deliveries and its audit. Each attempt at a message is one
 * transaction (see attempt-transaction.ts); the pool is the bus's unless you pass yours.
 */
export function postgresPersistence(options: PostgresPersistenceOptions): PersistenceFactory {
  for (const key of Object.keys(options ?? {})) {
    if (!knownOptions.includes(key)) throw new InvalidBusOptionError(`persistence.${key}`, `one of ${knownOptions.join(', ')}`, 'an option postgresPersistence does not take')
  }
  if (!options?.pool && typeof options?.connectionString !== 'string') throw new InvalidBusOptionError('persistence.connectionString', 'a PostgreSQL URL (or pass pool)', options?.connectionString)
  const prefix = options.prefix ?? 'mailroom'
  if (!/^[a-z_][a-z0-9_]*$/.test(prefix)) throw new InvalidBusOptionError('persistence.prefix', 'lower-case letters, digits and underscores', prefix)
  return (context) => createPostgresPersistence(options, prefix, context)
}

function createPostgresPersistence(options: PostgresPersistenceOptions, prefix: string, context: PersistenceContext): Persistence {
  const { clock } = context
  const ownPool = !options.pool
  // A connection is waited for at most 30 s: long enough for a burst of reads (a console page reads each
  // order's modules at once) to queue for the pool, short enough that a server that never answers is told.
  const poolConfig: PoolConfig = { connectionString: options.connectionString, max: options.maxConnections ?? context.concurrency + 4, connectionTimeoutMillis: 30_000 }
  const pool = options.pool ?? new pg.Pool(poolConfig)
  const address = options.connectionString ? postgresAddress(options.connectionString) : 'PostgreSQL (the pool given)'
  const translate = (error: unknown) => asPersistenceError(error, address)
  // An idle connection the server dropped: report it; the pool makes a new one when asked.
  const onPoolError = (error: Error) => context.onError(translate(error), 'keeping connections to PostgreSQL')
  pool.on('error', onPoolError)
  // A checked-out client whose connection drops while no query runs on it (a handler between two
  // statements) emits 'error'; unheard, that would end the process. The next statement on it fails with
  // the connection's error, which the attempt turns into PersistenceUnavailableError.
  const onClientError = () => {}
  const onConnect = (client: PoolClient) => void client.on('error', onClientError)
  pool.on('connect', onConnect)
  /** Reads outside handlers (web routes): a database that is away is PersistenceUnavailableError (503), not a bare driver error. */
  const reads: Queryable = {
    query: (async (text: string, values?: unknown[]) => {
      try {
        return await pool.query(text, values)
      } catch (error) {
        throw translate(error)
      }
    }) as Queryable['query'],
  }
  const instanceId = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`
  const relayEveryMs = options.relayEveryMs ?? 250
  const takeOverAfterMs = options.takeOverAfterMs ?? 30_000
  const keepHandledMs = options.keepHandledMs ?? 7 * 24 * 3_600_000
  const schemaOf = (module: string) => identifier(moduleSchema(prefix, module))
  /**
   * Whose outbox rows this instance relays when their writer has lost them: with a broker, every schema (any
   * process may publish any module's messages, and a module may run as one instance only); with the
   * embedded transport, this process's own.
   */
  const relayed = [...new Set([...(context.reachesOtherProcesses ? context.allModules : context.modules), outsideModule])]
  const sources = new WeakMap<DeliveryState, DeliverySource>()
  const sagas = new SagaStore()
  let relayTimer: NodeJS.Timeout | undefined
  let cleanupTimer: NodeJS.Timeout | undefined
  let sagaTimer: NodeJS.Timeout | undefined
  let sagaReading: Promise<void> | undefined
  let relaying: Promise<void> | undefined
  /** A notification came while a pass ran: another pass follows it at once. */
  let relayAgain = false
  let listener: { stop(): Promise<void> } | undefined
  let open = false

  async function connect(): Promise<PoolClient> {
    try {
      return await pool.connect()
    } catch (error) {
      throw translate(error)
    }
  }

  function release(client: PoolClient, broken?: unknown): void {
    // A connection that failed mid-transaction is not given back: the pool makes a new one.
    client.release(broken instanceof Error ? broken : broken === undefined ? undefined : true)
  }

  /** One transaction of the persistence's own (not a handler's): BEGIN, `work`, COMMIT, or ROLLBACK on error. */
  async function inTransaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await connect()
    try {
      await client.query('BEGIN')
      const result = await work(client)
      await client.query('COMMIT')
      release(client)
      return result
    } catch (error) {
      try {
        await client.query('ROLLBACK')
        release(client)
      } catch (rollbackError) {
        release(client, rollbackError)
      }
      throw translate(error)
    }
  }

  function track(produced: { state: DeliveryState; source: DeliverySource }[]): DeliveryState[] {
    for (const { state, source } of produced) sources.set(state, source)
    return produced.map(({ state }) => state)
  }

  const scopes = new Map<string, TransactionScope>()
  function scopeOf(module: string): TransactionScope {
    let scope = scopes.get(module)
    if (!scope) {
      scope = {
        prefix,
        schema: schemaOf(module),
        module,
        tables: context.tables.get(module) ?? [],
        audit: context.audit,
        instanceId,
        now: () => clock.now(),
        sourceOf: (state) => sources.get(state),
        connect,
        handledAlready: (state) => void relayLeftBehind(module, state.id),
        committed(produced, changes) {
          track(produced)
          for (const change of changes) sagas.apply(module, change)
        },
        release,
        translate,
      }
      scopes.set(module, scope)
    }
    return scope
  }

  /** Rows of `module`'s outbox turned into deliveries, one per row (each row has one destination), in the order they were written. */
  function deliveriesOf(module: string, rows: OutboxRowRead[]): DeliveryState[] {
    const schema = schemaOf(module)
    return track(
      inRowOrder(rows).map((row) => ({
        state: newDelivery(row.envelope.id, row.destinations[0]!, row.envelope, row.due_at?.getTime(), row.created_at.getTime()),
        source: { kind: 'outbox' as const, schema, rowId: row.id },
      })),
    )
  }

  /**
   * Claims pending rows of `module`'s outbox that nobody relays: written in a caller's transaction
   * (unclaimed), or claimed by another instance long enough ago that it must have died. `all` (a start
   * with the embedded transport, where this process is the only one) takes every pending row.
   */
  async function claimPending(module: string, all: boolean): Promise<DeliveryState[]> {
    const schema = schemaOf(module)
    // With a broker, a row of this instance's still waiting after `takeOverAfterMs` was lost track of too (a
    // commit whose answer was lost): its writer would have published it within moments. With the embedded
    // transport, this instance's rows wait in its queues, however long.
    const stale = olderThan('claimed_at', '$2')
    const whose = all ? '' : context.reachesOtherProcesses ? `AND (claimed_by IS NULL OR ${stale})` : `AND (claimed_by IS NULL OR (claimed_by <> $1 AND ${stale}))`
    const { rows } = await pool.query<OutboxRowRead>(
      `UPDATE ${schema}.outbox SET claimed_by = $1, claimed_at = now()
       WHERE id IN (SELECT id FROM ${schema}.outbox WHERE dispatched_at IS NULL ${whose} ORDER BY id ${all ? '' : 'LIMIT $3'} FOR UPDATE SKIP LOCKED)
       RETURNING id, envelope, destinations, due_at, created_at`,
      all ? [instanceId] : [instanceId, takeOverAfterMs, relayBatch],
    )
    return deliveriesOf(module, rows)
  }

  /** Whether the last relay pass failed: a database that is away is reported once, not four times a second. */
  let relayFailing = false
  /** When every schema was last looked through for rows left behind (the frequent pass looks at the outside's only). */
  let lastFullPass = 0
  async function relayPass(): Promise<void> {
    // Unclaimed rows (a caller's own transaction) are only ever the outside's: looked for at every pass. Rows a
    // writer lost are taken over only after `takeOverAfterMs`: every schema is looked through a few times in that.
    // Real time, as the pass's own timer and the database's claim times are.
    const full = Date.now() - lastFullPass >= takeOverAfterMs / 4
    if (full) lastFullPass = Date.now()
    for (const module of full ? relayed : [outsideModule]) {
      try {
        const found = await claimPending(module, false)
        if (found.length > 0) context.relay(found)
      } catch (error) {
        if (!relayFailing) context.onError(translate(error), `relaying pending messages of ${module} from PostgreSQL (tried again until it answers)`)
        relayFailing = true
        return
      }
    }
    relayFailing = false
  }

  function runRelayPass(): void {
    relayTimer = undefined
    relaying = relayPass().finally(() => {
      relaying = undefined
      if (!open) return
      if (relayAgain) {
        relayAgain = false
        runRelayPass()
      } else scheduleRelay()
    })
  }

  function scheduleRelay(): void {
    relayTimer = setTimeout(runRelayPass, relayEveryMs)
    relayTimer.unref()
  }

  /** A caller's transaction committed messages (its NOTIFY arrived): a pass now, not at the timer. */
  function relaySoon(): void {
    if (!open) return
    if (relaying) {
      relayAgain = true
      return
    }
    if (relayTimer) clearTimeout(relayTimer)
    runRelayPass()
  }

  /** A module's active saga instances, as the database has them, into the store the console reads. */
  async function readSagasOf(module: string): Promise<void> {
    const { rows } = await pool.query<{ saga: string; correlation_id: string; instance: string; data: unknown }>(`SELECT saga, correlation_id, instance, data FROM ${schemaOf(module)}.sagas`)
    sagas.replace(module, rows.map((row) => ({ saga: row.saga, id: row.correlation_id, instance: row.instance, data: row.data })))
  }

  /** Whether the last reading of the saga instances failed: reported once, not every time. */
  let sagaReadFailing = false
  /**
   * With a broker, other instances of this process's modules change their sagas too: the console's list and
   * count of a module's active instances (the only readers of this store here: attempts read each instance
   * in their transaction) are read again from the database every few seconds, not just at start.
   */
  async function readSagas(): Promise<void> {
    try {
      for (const module of context.modules) {
        await readSagasOf(module)
      }
      sagaReadFailing = false
    } catch (error) {
      if (!sagaReadFailing) context.onError(translate(error), 'reading the active saga instances from PostgreSQL (tried again until it answers)')
      sagaReadFailing = true
    }
  }

  /** What must not grow forever: inbox marks and dispatched rows past `keepHandledMs`, the audit past its retention. */
  async function cleanUp(): Promise<void> {
    for (const module of relayed) {
      const schema = schemaOf(module)
      try {
        await pool.query(`DELETE FROM ${schema}.outbox WHERE ${olderThan('dispatched_at', '$1')}`, [keepHandledMs])
        if (module === outsideModule) continue
        await pool.query(`DELETE FROM ${schema}.inbox WHERE ${olderThan('handled_at', '$1')}`, [keepHandledMs])
        // The audit's steps past its age (createBus({ audit: { maxAgeMs } })).
        if (context.auditMaxAgeMs !== undefined) await pool.query(`DELETE FROM ${schema}.audit WHERE ${olderThan('at', '$1')}`, [context.auditMaxAgeMs])
        // Past its count (createBus({ audit: { maxConversations } })): the conversations whose first step here is oldest go.
        if (context.auditMaxConversations !== undefined) {
          await pool.query(
            `DELETE FROM ${schema}.audit AS step USING (SELECT conversation_id FROM ${schema}.audit GROUP BY conversation_id ORDER BY min(id) DESC OFFSET $1) AS old WHERE step.conversation_id = old.conversation_id`,
            [context.auditMaxConversations],
          )
        }
      } catch (error) {
        context.onError(translate(error), `cleaning up handled messages of ${module} in PostgreSQL`)
      }
    }
  }

  /** A delivery's outcome other than handled, in one transaction with its audit step. */
  async function commitOutcome(module: string, state: DeliveryState, env: Envelope, outcome: StepOutcome, failures: readonly FailureRecord[] | undefined, write: (client: PoolClient, schema: string) => Promise<void>): Promise<void> {
    const schema = schemaOf(module)
    await inTransaction(async (client) => {
      await write(client, schema)
      if (context.audit) {
        const step = auditedStep(module, env, outcome, clock.now(), failures ? { failures } : undefined)
        await insertAudit(client, schema, step.conversationId, step.steps)
      }
    })
  }

  async function keepWaiting(module: string, state: DeliveryState, env: Envelope, kind: 'delayed' | 'failed', at: number | undefined, failures: FailureRecord[]): Promise<void> {
    await commitOutcome(module, state, env, kind === 'delayed' ? 'delayed-retry' : 'error-queue', failures, async (client, schema) => {
      await client.query(
        `INSERT INTO ${schema}.waiting (message_id, kind, envelope, due_at, failures) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (message_id) DO UPDATE SET kind = EXCLUDED.kind, envelope = EXCLUDED.envelope, due_at = EXCLUDED.due_at, failures = EXCLUDED.failures, since = now()`,
        [state.id, kind, JSON.stringify(env), at === undefined ? null : new Date(at), JSON.stringify(failures)],
      )
      const source = sources.get(state)
      if (source?.kind === 'outbox') await consumeSource(client, source, state.id)
    })
    state.kind = kind
    state.env = env
    state.at = at
    state.failures = failures
    sources.set(state, { kind: 'waiting', schema: schemaOf(module) })
  }

  /** Sends from outside handlers, committed together while an INSERT is on its way (see grouped-sends.ts). */
  /** A handled outcome committed outside the pipeline's attempts (which commit their own transactions): a transaction with no handler work. */
  async function commitHandledOutside(module: string, state: DeliveryState, sent: OutgoingEntry[], changes: SagaChange[], audit: HandledAudit | undefined): Promise<DeliveryState[]> {
    const transaction = await transactions.begin(module, state).catch((error: unknown) => {
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

  async function commitRetried(module: string, state: DeliveryState, env: Envelope): Promise<void> {
    await commitOutcome(module, state, env, 'retried', undefined, (client, schema) => client.query(`UPDATE ${schema}.waiting SET kind = 'retried', envelope = $2, since = now() WHERE message_id = $1`, [state.id, JSON.stringify(env)]).then(() => undefined))
    state.kind = 'retried'
    state.env = env
  }

  async function commitArchived(module: string, state: DeliveryState): Promise<void> {
    await commitOutcome(module, state, state.env!, 'archived', undefined, (client, schema) => client.query(`UPDATE ${schema}.waiting SET kind = 'archived', since = now() WHERE message_id = $1`, [state.id]).then(() => undefined))
    state.kind = 'archived'
  }

  const sendFromOutside = groupedSends<{ state: DeliveryState; source: DeliverySource }>(async (msgs) => {
    const schema = schemaOf(outsideModule)
    const insert = outboxInsert(schema, msgs, instanceId)
    if (!insert) return msgs.map(() => [])
    let ids
    try {
      ids = idsInOrder((await pool.query<{ id: string }>(insert.statement)).rows)
    } catch (error) {
      throw translate(error)
    }
    const since = clock.now()
    // One result list per message, its destinations' deliveries in order.
    const byEntry = new Map<OutgoingEntry, { state: DeliveryState; source: DeliverySource }[]>(msgs.map((entry) => [entry, []]))
    insert.planned.forEach(({ entry, module }, index) => byEntry.get(entry)!.push({ state: newDelivery(entry.env.id, module, entry.env, entry.at, since), source: { kind: 'outbox', schema, rowId: ids[index]! } }))
    return msgs.map((entry) => byEntry.get(entry)!)
  })

  /**
   * A delivery found handled already: if an earlier attempt here committed without learning it (the answer
   * to its COMMIT was lost with the connection), what it sent never left. Takes those rows over and relays
   * them; rows another live instance is passing on right now are left to it.
   */
  async function relayLeftBehind(module: string, causationId: string): Promise<void> {
    const schema = schemaOf(module)
    try {
      const { rows } = await pool.query<OutboxRowRead>(
        `UPDATE ${schema}.outbox SET claimed_by = $1, claimed_at = now()
         WHERE dispatched_at IS NULL AND (envelope->'headers'->>'mailroom.causation-id') = $2 AND (claimed_by IS NULL OR claimed_by = $1 OR ${olderThan('claimed_at', '$3')})
         RETURNING id, envelope, destinations, due_at, created_at`,
        [instanceId, causationId, takeOverAfterMs],
      )
      if (rows.length > 0) context.relay(deliveriesOf(module, rows))
    } catch (error) {
      context.onError(translate(error), `looking for messages ${module} sent while handling ${causationId}`)
    }
  }

  const transactions = {
    async begin(module: string, state: DeliveryState): Promise<AttemptTransaction> {
      const transaction = new PostgresAttemptTransaction(scopeOf(module), state)
      // A broker's message may be on its way to another instance as well (a redelivery after a lost ack):
      // the inbox mark comes first, before any handler runs. Ours (an outbox row of this process) opens when needed.
      if (!sources.has(state)) await transaction.open()
      return transaction
    },
    isConflict: isCollision,
  }

  return {
    sagas,
    transactions,
    shared: true,
    maintenance: {
      request() {},
      requestIfSealedSince() {},
      runNow: cleanUp,
      idle: () => relaying ?? Promise.resolve(),
    },
    async open(): Promise<Recovered> {
      try {
        await migrate(pool, { prefix, modules: [...new Set([...context.allModules, outsideModule])] })
      } catch (error) {
        throw translate(error)
      }
      const queued = new Map<string, DeliveryState[]>(context.modules.map((module) => [module, []]))
      const delayed: DeliveryState[] = []
      const failed: DeliveryState[] = []
      const elsewhere: DeliveryState[] = []
      const now = clock.now()
      let records = 0
      try {
        // With the embedded transport this process is the only one: every pending row is its own to deliver.
        for (const module of context.reachesOtherProcesses ? relayed : [...context.allModules, outsideModule]) {
          for (const state of await claimPending(module, !context.reachesOtherProcesses)) {
            records++
            const queue = queued.get(state.module)
            if (state.at !== undefined && state.at > now) delayed.push(state)
            else if (queue) queue.push(state)
            else elsewhere.push(state)
          }
        }
        for (const module of context.modules) {
          const schema = schemaOf(module)
          const waiting = await pool.query<{ message_id: string; kind: string; envelope: Envelope; due_at: Date | null; failures: FailureRecord[]; since: Date }>(
            `SELECT message_id, kind, envelope, due_at, failures, since FROM ${schema}.waiting WHERE kind <> 'archived' ORDER BY since`,
          )
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
          await readSagasOf(module)
        }
      } catch (error) {
        throw translate(error)
      }
      open = true
      scheduleRelay()
      listener = listenForOutsideSends({ connect, channel: schemaOf(outsideModule), onNotify: relaySoon, retryAfterMs: 1_000 })
      cleanupTimer = setInterval(() => void cleanUp(), 60_000)
      cleanupTimer.unref()
      if (context.reachesOtherProcesses) {
        sagaTimer = setInterval(() => {
          sagaReading ??= readSagas().finally(() => (sagaReading = undefined))
        }, sagaListEveryMs)
        sagaTimer.unref()
      }
      return { queued, delayed, failed, elsewhere, orphaned: 0, tornTails: [], records }
    },
    async readBack(states) {
      const found = new Map<DeliveryState, Envelope>()
      for (const state of states) if (state.env) found.set(state, state.env)
      return found
    },
    // Its deliveries come with their messages (read with their rows) and nothing is read back later: a queue keeps them in memory.
    canReadBack: () => false,
    async commitOutside(msgs, transaction) {
      const schema = schemaOf(outsideModule)
      if (transaction !== undefined) {
        // Unclaimed: the relay takes the rows once the caller's transaction has committed them.
        const insert = outboxInsert(schema, msgs, null)
        // With a NOTIFY, which PostgreSQL delivers to the listening instances only if, and once, this commits.
        if (insert) await (transaction as PoolClient).query(`${insert.statement}; NOTIFY ${schema}`)
        return []
      }
      return track(await sendFromOutside(msgs))
    },
    commit(module, state, outcome) {
      switch (outcome.kind) {
        case 'handled':
          return commitHandledOutside(module, state, outcome.sent, outcome.sagas ?? [], outcome.audit)
        case 'delayed':
          return keepWaiting(module, state, outcome.env, 'delayed', outcome.at, outcome.failures).then(() => [])
        case 'failed':
          return keepWaiting(module, state, outcome.env, 'failed', undefined, outcome.failures).then(() => [])
        case 'retried':
          return commitRetried(module, state, outcome.env).then(() => [])
        case 'archived':
          return commitArchived(module, state).then(() => [])
        case 'parked':
          // The broker holds it (a delay queue, its error queue): nothing to keep here.
          state.kind = 'parked'
          return Promise.resolve([])
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
        for (const [schema, ids] of bySchema) await pool.query(`UPDATE ${schema}.outbox SET dispatched_at = now() WHERE id = ANY($1::bigint[])`, [ids])
      } catch (error) {
        throw translate(error)
      }
      for (const state of states) if (state.kind === undefined) state.kind = 'forwarded'
    },
    async commitDeletes() {
      // The journal's own retention of documents; PostgreSQL keeps its audit with cleanUp.
      return 0
    },
    // Deduplication is the inbox's, inside each attempt's transaction: a broker's message is always new here.
    deliveryOf: () => undefined,
    received: (env, module, now) => newDelivery(env.id, module, env, undefined, now),
    forget() {},
    data: () => undefined,
    // Every instance's writes are here: any process reads any module's tables.
    holdsDataOf: (module) => context.allModules.includes(module),
    tableReader(module, definition: TableDefinition) {
      if (!(context.tables.get(module) ?? []).includes(definition)) return undefined
      return readDocuments(reads, prefix, module, definition)
    },
    async conversation(modules, conversationId) {
      const steps: ConversationStep[] = []
      for (const module of modules) {
        const { rows } = await reads.query<{ step: ConversationStep }>(`SELECT step FROM ${schemaOf(module)}.audit WHERE conversation_id = $1 ORDER BY id`, [conversationId])
        for (const row of rows) steps.push(row.step)
      }
      return steps
    },
    totalBytes: () => 0,
    flushed: () => Promise.resolve(),
    async close() {
      open = false
      if (relayTimer) clearTimeout(relayTimer)
      if (cleanupTimer) clearInterval(cleanupTimer)
      if (sagaTimer) clearInterval(sagaTimer)
      await sagaReading
      await listener?.stop()
      await relaying
      if (ownPool) await pool.end()
      else pool.off('error', onPoolError).off('connect', onConnect)
    },
  }
}
