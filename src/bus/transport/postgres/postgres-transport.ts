import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import pg from 'pg'
import { InvalidBusOptionError, TransportUnconfirmedError } from '../../errors.js'
import { asPersistenceError, postgresAddress } from '../../persistence/postgres/database-errors.js'
import { guardPool } from './pool-guards.js'
import { listenForOutsideSends } from '../../persistence/postgres/outside-listener.js'
import { identifier } from '../../persistence/postgres/schema.js'
import type { Transport, TransportHost } from '../transport.js'
import { browsePostgresErrorQueue, park } from './postgres-error-queue.js'
import { QueueConsumer, type QueueConsumerDeps } from './queue-consumer.js'
import { migrateUntilDone, queueSchema } from './queue-schema.js'
import { channelOf, enqueue, queueLengths, releaseClaimedBy } from './queue-statements.js'
import { queueTablesOf } from './queue-tables.js'
import { RowBatches } from './row-batches.js'
import { QueueSender, within } from './queue-sender.js'

export interface PostgresTransportOptions {
  /** The server, e.g. `postgres://user@127.0.0.1:5432/shop`. Either this or `pool`. */
  connectionString?: string
  /** A pool of your own (the transport does not end it). */
  pool?: pg.Pool
  /** Names the schema of the queues, `<prefix>_queues`, and their NOTIFY channel: shops sharing a server use different ones. @default 'mailroom' */
  prefix?: string
  /** How long a claimed message stays invisible to other consumers; past it (its consumer died, or is that slow) it is delivered again (ms). @default 60000 */
  leaseMs?: number
  /** How often a queue is looked at without a NOTIFY (ms). @default 1000 */
  pollEveryMs?: number
  /** Messages a module claims ahead of its handlers, per its concurrency. @default 4 */
  prefetchPerSlot?: number
  /** How long `stop()` waits for messages being handled and deliveries not yet in the database (ms). @default 5000 */
  stopTimeoutMs?: number
  /** Connections in the transport's own pool (not with `pool`). @default 4 */
  maxConnections?: number
  /** This process hosts the console: it browses the error queue. @default false */
  console?: boolean
}

const defaultLeaseMs = 60_000

/** `<prefix>_control`, the longest name made of it, within PostgreSQL's 63 bytes. */
const maxPrefixLength = 63 - '_control'.length

const knownOptions = ['connectionString', 'pool', 'prefix', 'leaseMs', 'pollEveryMs', 'prefetchPerSlot', 'stopTimeoutMs', 'maxConnections', 'console']

/** Checks the options: an unknown one, or a wrong value, fails at once, naming it. */
function checkOptions(options: PostgresTransportOptions): void {
  for (const key of Object.keys(options ?? {})) {
    if (!knownOptions.includes(key)) throw new InvalidBusOptionError(`transport.${key}`, `one of ${knownOptions.join(', ')}`, 'an option postgresTransport does not take')
  }
  if (!options?.pool && typeof options?.connectionString !== 'string') throw new InvalidBusOptionError('transport.connectionString', 'a PostgreSQL URL (or pass pool)', options?.connectionString)
  if (options.prefix !== undefined && !/^[a-z_][a-z0-9_]*$/.test(options.prefix)) throw new InvalidBusOptionError('transport.prefix', 'lower-case letters, digits and underscores', options.prefix)
  // Its schema and channels are `<prefix>_queues` and `<prefix>_control`: PostgreSQL cuts names at 63 bytes (and refuses such a channel).
  if (options.prefix !== undefined && options.prefix.length > maxPrefixLength) throw new InvalidBusOptionError('transport.prefix', `at most ${maxPrefixLength} characters (PostgreSQL's names end at 63)`, options.prefix)
  for (const key of ['leaseMs', 'pollEveryMs', 'stopTimeoutMs'] as const) {
    const value = options[key]
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value > 0)) throw new InvalidBusOptionError(`transport.${key}`, 'a number of milliseconds > 0', value)
  }
  for (const key of ['prefetchPerSlot', 'maxConnections'] as const) {
    const value = options[key]
    if (value !== undefined && !(Number.isInteger(value) && value >= 1)) throw new InvalidBusOptionError(`transport.${key}`, 'an integer ≥ 1', value)
  }
}

/**
 * PostgreSQL as the transport: each module's queue is rows of one table (`<prefix>_queues.messages`), so
 * modules scale out over processes with nothing but the database the shop already has.
 *
 * With the PostgreSQL persistence in the same database (the same pool, or the same connection string), its
 * queues are tables that persistence writes into (`queueTables`): a handler's sends are INSERTed, and the
 * message it handled is deleted, in the handler's own transaction; a send from outside is one INSERT too.
 * Nothing is relayed, and no copy is left behind for an inbox to drop.
 * Otherwise, outgoing: a delivery is already committed by its producer's persistence; it is INSERTed (a batch
 * per round trip, with a NOTIFY per queue in the same commit) and only then marked `forwarded`. A failed
 * INSERT is tried again, with backoff: nothing is lost, and a duplicate is dropped by the receiver's inbox.
 * Incoming: each local module claims visible rows with `FOR UPDATE SKIP LOCKED`, under a lease (a visibility
 * timeout): the row is deleted once the outcome is durable (in that outcome's transaction, when it can be),
 * so a consumer that dies mid-handler loses nothing, its rows come back when their lease is over. A lease,
 * not a destructive read into an inbox: it works with every persistence (the journal files have no
 * transaction in this database) and holds no transaction open while handlers run.
 * Deferred deliveries and delayed retries are rows not yet visible; the error queue is a table of its own.
 */
export function postgresTransport(options: PostgresTransportOptions): Transport {
  checkOptions(options)
  const prefix = options.prefix ?? 'mailroom'
  const schema = queueSchema(prefix)
  const channel = channelOf(prefix)
  // A pool given says where it connects (pg keeps its options), without the password.
  const connectsTo = options.connectionString ?? (options.pool as { options?: { connectionString?: string } } | undefined)?.options?.connectionString
  const address = connectsTo ? postgresAddress(connectsTo) : 'PostgreSQL (the pool given)'
  const consumerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
  const stopTimeoutMs = options.stopTimeoutMs ?? 5_000
  const pool = options.pool ?? new pg.Pool({ connectionString: options.connectionString, max: options.maxConnections ?? 4, connectionTimeoutMillis: 10_000 })
  let host: TransportHost | undefined
  let state: 'connecting' | 'connected' | 'reconnecting' | 'closed' = 'connecting'
  let lastError: string | undefined
  let stopped = false
  let sender: QueueSender | undefined
  /** The queues' tables exist (created or migrated at start, or once the database answered). */
  let migrated: Promise<void> | undefined
  const consumers = new Map<string, QueueConsumer>()
  let listener: { stop(): Promise<void> } | undefined
  let errorQueue: ReturnType<typeof browsePostgresErrorQueue> | undefined
  /** The queues' tables exist: a persistence in this database may write into them. */
  let ready = false
  const queueTables = queueTablesOf({ schema, channel, pool: options.pool, connectsTo, ready: () => ready && !stopped, consumerOf: (module) => consumers.get(module), consumerId, leaseMs: options.leaseMs ?? defaultLeaseMs })
  const unguard = guardPool(pool, (error) => noteError(error, 'keeping connections to PostgreSQL'))
  const rows = new RowBatches(pool, schema, (error, during) => noteError(error, during))

  function noteError(error: unknown, during: string): void {
    lastError = error instanceof Error ? error.message : String(error)
    if (state === 'connected') state = 'reconnecting'
    host?.onError(asPersistenceError(error, address), during)
  }
  function noteSuccess(): void {
    state = 'connected'
  }

  async function confirmed(what: string, work: () => Promise<unknown>): Promise<void> {
    try {
      await work()
      noteSuccess()
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error)
      throw new TransportUnconfirmedError(what, { cause: error })
    }
  }

  return {
    kind: 'postgres',
    reachesOtherProcesses: true,
    holdsDeferred: true,
    get pending() {
      return sender?.pending ?? 0
    },
    async start(given) {
      host = given
      sender = new QueueSender({ pool, schema, channel, host: given, noteError, noteSuccess })
      for (const module of given.localModules) {
        consumers.set(module, new QueueConsumer({ ...consumerSettings(options, given, module), pool, schema, consumerId, done: (rowId) => rows.done(rowId), handBack: (rowId) => rows.handBack(rowId), noteError, noteSuccess }))
      }
      // A database that is away (or has all the connections it takes) is waited for in the background, as a
      // broker is: the bus starts, what it sends waits, and `status()` says so. Anything else (queues a newer
      // Mailroom wrote) fails the start.
      migrated = migrateUntilDone(pool, prefix, () => stopped, (error) => noteError(error, 'creating the queues in PostgreSQL (tried again every second)'))
      try {
        await Promise.race([migrated, new Promise((resolve) => setTimeout(resolve, 2_000).unref())])
      } catch (error) {
        throw asPersistenceError(error, address)
      }
      void migrated.then(
        () => {
          if (stopped) return
          ready = true
          noteSuccess()
          const wakeAll = () => consumers.forEach((consumer) => consumer.wake())
          if (consumers.size > 0) {
            listener = listenForOutsideSends({ connect: () => pool.connect(), channel: identifier(channel), onNotify: (queue) => (queue ? consumers.get(queue)?.wake() : wakeAll()), onListening: wakeAll, retryAfterMs: 1_000 })
          }
          for (const consumer of consumers.values()) consumer.start()
          if (options.console) {
            errorQueue = browsePostgresErrorQueue({ pool, schema, channel, archive: (message) => given.archive(message), onError: (error) => noteError(error, 'reading the error queue in PostgreSQL') })
            void errorQueue.refresh()
          }
        },
        (error: unknown) => noteError(error, 'creating the queues in PostgreSQL'),
      )
    },
    get errorQueue() {
      return errorQueue
    },
    queueTables,
    deliver: (deliveries) => sender!.send(deliveries),
    retryLater: (module, env, failures, delayMs) => confirmed(`the delayed retry of ${env.type}`, () => pool.query(enqueue(schema, channel, [{ queue: module, env, failures, delayMs }]))),
    park: (module, failedEnv, failures) => confirmed(`the failed ${failedEnv.type} for the error queue`, () => park(pool, schema, module, failedEnv, failures)),
    status: () => ({ kind: 'postgres', state: stopped ? 'closed' : state, address, unconfirmed: sender?.pending ?? 0, lastError }),
    async queueLengths() {
      if (!host) return undefined
      try {
        return await countQueues(pool, schema, [...host.topology.modules.keys()])
      } catch (error) {
        lastError = error instanceof Error ? error.message : String(error)
        return undefined
      }
    },
    async stop() {
      if (stopped) return
      // At once: a migration still waiting for the database starts nothing now.
      stopped = true
      // The module runtimes are stopped first: what was claimed and not started comes back as 'requeue'.
      await Promise.all([...consumers.values()].map((consumer) => consumer.stop(stopTimeoutMs)))
      await listener?.stop()
      errorQueue?.stop()
      await sender?.stop(stopTimeoutMs)
      await within(rows.drain(), stopTimeoutMs)
      // Rows still claimed here go back to the queue at once, not after their lease.
      await pool.query(releaseClaimedBy(schema), [consumerId]).catch(() => undefined)
      unguard()
      if (!options.pool) await within(pool.end(), stopTimeoutMs)
    },
  }
}

/** Messages waiting (visible now) in each module's queue, 0 for a module with none. */
async function countQueues(pool: pg.Pool, schema: string, modules: readonly string[]): Promise<Record<string, number>> {
  const { rows: counts } = await pool.query<{ queue: string; n: number }>(queueLengths(schema))
  const lengths: Record<string, number> = Object.fromEntries(modules.map((module) => [module, 0]))
  for (const { queue, n } of counts) if (queue in lengths) lengths[queue] = n
  return lengths
}

/** A local module's consumer: how much it holds, for how long, how often it looks, and where its rows go. */
function consumerSettings(options: PostgresTransportOptions, host: TransportHost, module: string): Pick<QueueConsumerDeps, 'module' | 'prefetch' | 'leaseMs' | 'pollEveryMs' | 'receive'> {
  const concurrency = host.topology.modules.get(module)?.concurrency ?? 1
  return {
    module,
    prefetch: Math.max(1, concurrency * (options.prefetchPerSlot ?? 4)),
    leaseMs: options.leaseMs ?? defaultLeaseMs,
    pollEveryMs: options.pollEveryMs ?? 1_000,
    receive: (env, failures, receipt) => host.receive(module, env, failures, receipt),
  }
}
