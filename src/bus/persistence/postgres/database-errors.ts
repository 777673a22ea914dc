import { PersistenceUnavailableError } from '../../errors.js'

/** SQLSTATE classes and socket errors that mean the server went away, not that the statement was wrong. */
// 53300: the server has all the connections it takes (many processes reconnecting at once after a restart):
// as transient as a server that is starting.
const connectionCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006', '53300'])
const connectionMessages = ['Connection terminated', 'connection error', 'Client was closed', 'timeout exceeded when trying to connect', 'Client has encountered a connection error']

/** Whether `error` says the database cannot be reached (rather than that a statement failed). */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string' && connectionCodes.has(code)) return true
  if (error instanceof AggregateError) return error.errors.some(isConnectionError)
  return connectionMessages.some((text) => error.message.includes(text))
}

/** Two transactions collided (a deadlock, a serialization failure): the later one runs again. */
export function isCollision(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code
  return code === '40P01' || code === '40001'
}

/** A connection failure becomes PersistenceUnavailableError (the delivery waits and is tried again); anything else is itself. */
export function asPersistenceError(error: unknown, address: string): unknown {
  return isConnectionError(error) && !(error instanceof PersistenceUnavailableError) ? new PersistenceUnavailableError(address, { cause: error }) : error
}

/** Where the server is, for messages: host, port and database of the URL, never its password. */
export function postgresAddress(connectionString: string): string {
  try {
    const url = new URL(connectionString)
    return `postgres://${url.hostname}:${url.port || '5432'}${url.pathname}`
  } catch {
    return 'PostgreSQL (an unreadable connection string)'
  }
}
