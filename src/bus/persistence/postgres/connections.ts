import pg, { type PoolClient, type PoolConfig } from 'pg'
import type { PersistenceContext } from '../persistence.js'
import { asPersistenceError, postgresAddress } from './database-errors.js'
import type { Queryable } from './documents.js'
import type { PostgresPersistenceOptions } from './postgres-options.js'

/** The persistence's connections to PostgreSQL: its pool (or yours), and the one way each use of it reports a lost database. */
export interface Connections {
  readonly pool: pg.Pool
  /** Where the server is, for messages (never its password). */
  readonly address: string
  /** Reads outside handlers (web routes): a database that is away is PersistenceUnavailableError (503), not a bare driver error. */
  readonly reads: Queryable
  connect(): Promise<PoolClient>
  /** Gives a client back; one whose connection failed mid-transaction is not (the pool makes a new one). */
  release(client: PoolClient, broken?: unknown): void
  /** One transaction of the persistence's own (not a handler's): BEGIN, `work`, COMMIT, or ROLLBACK on error. */
  inTransaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T>
  /** A driver's error as the bus tells it: PersistenceUnavailableError when the database is away. */
  translate(error: unknown): unknown
  /** Ends the pool if it is the persistence's own, or stops listening to yours. */
  close(): Promise<void>
}

export function createConnections(options: PostgresPersistenceOptions, context: PersistenceContext): Connections {
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

  async function connect(): Promise<PoolClient> {
    try {
      return await pool.connect()
    } catch (error) {
      throw translate(error)
    }
  }

  function release(client: PoolClient, broken?: unknown): void {
    client.release(broken instanceof Error ? broken : broken === undefined ? undefined : true)
  }

  return {
    pool,
    address,
    reads: {
      query: (async (text: string, values?: unknown[]) => {
        try {
          return await pool.query(text, values)
        } catch (error) {
          throw translate(error)
        }
      }) as Queryable['query'],
    },
    connect,
    release,
    async inTransaction(work) {
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
    },
    translate,
    async close() {
      if (ownPool) await pool.end()
      else pool.off('error', onPoolError).off('connect', onConnect)
    },
  }
}
