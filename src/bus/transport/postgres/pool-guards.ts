import type pg from 'pg'

/**
 * Listens to a pool's errors so none ends the process: an idle connection the server dropped (`onError`
 * hears it; the pool makes a new one when asked), and a checked-out client whose connection drops (a
 * LISTEN's, between notifications), which emits 'error', maybe more than once, while the statement on it
 * fails by itself and is tried again. Returns how to stop listening (a pool given by the caller lives on).
 */
export function guardPool(pool: pg.Pool, onError: (error: Error) => void): () => void {
  const onClientError = () => {}
  const onConnect = (client: pg.PoolClient) => void client.on('error', onClientError)
  pool.on('error', onError).on('connect', onConnect)
  return () => void pool.off('error', onError).off('connect', onConnect)
}
