/**
 * `mailroom/postgres`: the PostgreSQL persistence, for modules that run as several instances (or outgrow one
 * disk), and the PostgreSQL transport, which carries messages between those instances without a broker. A module of its own so that the bus (`mailroom`) never loads `pg` for those who do not use it.
 */
import type { PoolClient } from 'pg'
import type { HandlerContext } from './endpoint/handler-context.js'
import { NoTransactionError } from './errors.js'
import type { SagaContext } from './sagas/saga-context.js'

export { postgresPersistence, type PostgresPersistenceOptions } from './persistence/postgres/postgres-persistence.js'
export { migrate, schemaVersion, type SchemaOptions } from './persistence/postgres/schema.js'
export { postgresTransport, type PostgresTransportOptions } from './transport/postgres/postgres-transport.js'
export { postgresConsoleLink, type PostgresConsoleLinkOptions } from './transport/postgres/postgres-console-link.js'

/**
 * The pg client of the handler's transaction: SQL run on it commits with the message's inbox mark, its table
 * writes, saga changes and outgoing messages, or not at all (a failed attempt rolls it all back). Use it
 * directly (`client.query`), or hand it to a query builder (Kysely, Drizzle: see docs/postgres.md). Never
 * call BEGIN, COMMIT or ROLLBACK on it, nor release it: the bus owns the transaction.
 * Asynchronous: the transaction opens when first needed (a handler that only uses its tables and sends
 * messages commits in one round trip). Rejects with NoTransactionError when the bus has no PostgreSQL
 * persistence (or in a test kit's context).
 */
export async function transactionClient(context: HandlerContext | SagaContext<unknown>): Promise<PoolClient> {
  const session = (context as { transactionSession?: () => Promise<unknown> | undefined }).transactionSession?.()
  if (session === undefined) throw new NoTransactionError()
  return (await session) as PoolClient
}
