import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { ConversationStep } from '../../audit/conversation-step.js'
import type { TableDefinition } from '../../data/define-table.js'
import type { DeliveryState } from '../../delivery/delivery.js'
import { InvalidBusOptionError } from '../../errors.js'
import type { Envelope } from '../../messages/envelope.js'
import { SagaStore } from '../../sagas/saga-store.js'
import type { Persistence, PersistenceContext, PersistenceFactory } from '../persistence.js'
import { createAttemptTransactions } from './attempt-scopes.js'
import { createBackground } from './background.js'
import { createConnections } from './connections.js'
import { DeliverySources } from './delivery-sources.js'
import { readDocuments } from './documents.js'
import { newDelivery } from './outbox-rows.js'
import { createOutcomes } from './outcomes.js'
import { createOutsideCommits } from './outside-commits.js'
import { knownOptions, outsideModule, type PostgresPersistenceOptions } from './postgres-options.js'
import { queuesHere } from './queues-here.js'
import { recover } from './recovery.js'
import { createRelay } from './relay.js'
import { identifier, moduleSchema } from './schema.js'
import { conversationSteps } from './statements.js'

export type { PostgresPersistenceOptions } from './postgres-options.js'

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
  for (const key of ['relayEveryMs', 'takeOverAfterMs', 'keepHandledMs', 'lostAnswerWaitMs'] as const) {
    const value = options[key]
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value >= 0)) throw new InvalidBusOptionError(`persistence.${key}`, 'a number of milliseconds ≥ 0', value)
  }
  const prefix = options.prefix ?? 'mailroom'
  if (!/^[a-z_][a-z0-9_]*$/.test(prefix)) throw new InvalidBusOptionError('persistence.prefix', 'lower-case letters, digits and underscores', prefix)
  return (context) => createPostgresPersistence(options, prefix, context)
}

/**
 * Its roles, each in a file of its own: connections (connections.ts), the relay of rows it did not commit
 * itself (relay.ts), attempts in transactions (attempt-scopes.ts, attempt-transaction.ts), outcomes outside
 * attempts (outcomes.ts), sends from outside (outside-commits.ts), recovery at start (recovery.ts), cleaning
 * up and reading sagas again (background.ts); every SQL text of its own in statements.ts.
 */
function createPostgresPersistence(options: PostgresPersistenceOptions, prefix: string, context: PersistenceContext): Persistence {
  // PostgreSQL cuts longer names at 63 bytes: two modules' schemas could become one.
  const tooLong = [...context.allModules, outsideModule].map((module) => moduleSchema(prefix, module)).find((schema) => Buffer.byteLength(schema) > 63)
  if (tooLong) throw new InvalidBusOptionError('persistence.prefix', `short enough that every schema <prefix>_<module> fits PostgreSQL's 63 bytes (${tooLong} does not)`, prefix)
  const connections = createConnections(options, context)
  const instanceId = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`
  const schemaOf = (module: string) => identifier(moduleSchema(prefix, module))
  /**
   * The outboxes this instance passes on: with the embedded transport, its own modules' (no other process
   * can take them); with a broker, every module's, as any instance may pick up what another left behind.
   */
  const relayed = [...new Set([...(context.reachesOtherProcesses ? context.allModules : context.modules), outsideModule])]
  const sources = new DeliverySources()
  const sagas = new SagaStore()
  const shared = { connections, sources, context, schemaOf }
  const queues = queuesHere(context.queues, options)
  const relay = createRelay({ ...shared, relayed, instanceId, relayEveryMs: options.relayEveryMs ?? 250, takeOverAfterMs: options.takeOverAfterMs ?? 30_000 })
  const background = createBackground({ ...shared, sagas, relayed, keepHandledMs: options.keepHandledMs ?? 7 * 24 * 3_600_000 })
  const transactions = createAttemptTransactions({ ...shared, prefix, instanceId, sagas, relay, queues })
  const outcomes = createOutcomes({ ...shared, transactions })

  return {
    sagas,
    transactions,
    shared: true,
    maintenance: { request() {}, requestIfSealedSince() {}, runNow: background.cleanUp, idle: relay.idle },
    async open() {
      const recovered = await recover({ ...shared, prefix, relayed, relay, background })
      relay.start()
      background.start()
      return recovered
    },
    async readBack(states) {
      const found = new Map<DeliveryState, Envelope>()
      for (const state of states) if (state.env) found.set(state, state.env)
      return found
    },
    // Its deliveries come with their messages (read with their rows) and nothing is read back later: a queue keeps them in memory.
    canReadBack: () => false,
    commitOutside: createOutsideCommits({ ...shared, instanceId, clock: context.clock, lostAnswerWaitMs: options.lostAnswerWaitMs ?? 5_000, queues }),
    commit: outcomes.commit,
    forwarded: outcomes.forwarded,
    async commitDeletes() {
      // The journal's own retention of documents; PostgreSQL keeps its audit with its clean-up.
      return 0
    },
    // Deduplication is the inbox's, inside each attempt's transaction: a broker's message is always new here.
    deliveryOf: () => undefined,
    received(env, module, now, receipt) {
      const delivery = newDelivery(env.id, module, env, undefined, now)
      // Its row is in this database: the handled transaction deletes it (an outcome other than handled leaves it to the transport).
      const here = receipt === undefined ? undefined : queues()
      if (here) sources.set(delivery, { kind: 'queue', consume: here.consumeStatement(receipt!) })
      return delivery
    },
    consumedAtSource: (state) => sources.consumedAtSource(state),
    forget() {},
    data: () => undefined,
    // Every instance's writes are here: any process reads any module's tables.
    holdsDataOf: (module) => context.allModules.includes(module),
    tableReader(module, definition: TableDefinition) {
      if (!(context.tables.get(module) ?? []).includes(definition)) return undefined
      return readDocuments(connections.reads, prefix, module, definition)
    },
    async conversation(modules, conversationId) {
      const steps: ConversationStep[] = []
      for (const module of modules) {
        const { rows } = await connections.reads.query<{ step: ConversationStep }>(conversationSteps(schemaOf(module)), [conversationId])
        for (const row of rows) steps.push(row.step)
      }
      return steps
    },
    totalBytes: () => 0,
    flushed: () => Promise.resolve(),
    async close() {
      await background.stop()
      await relay.stop()
      await connections.close()
    },
  }
}
