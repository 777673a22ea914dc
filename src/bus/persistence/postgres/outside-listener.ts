import type { PoolClient } from 'pg'
import { listenOutside } from './statements.js'

export interface OutsideListenerOptions {
  /** A connection of the pool's, held for as long as the listener runs (LISTEN lives in one session). */
  connect(): Promise<PoolClient>
  /** The quoted channel: the outside schema's name, which a caller's transaction NOTIFYs with its rows. */
  channel: string
  /** A transaction that NOTIFYs the channel committed (with its payload, if it gave one): look now. */
  onNotify(payload: string | undefined): void
  /**
   * Listening, at start or again after the connection was lost: a transaction that committed while nobody
   * listened sent its notification to no one, so look now rather than at the next pass.
   */
  onListening(): void
  /** How long to wait before listening again after the connection was lost. */
  retryAfterMs: number
}

/**
 * LISTENs for the notification a caller's own transaction sends with the messages it writes
 * (`bus.send(M, body, { transaction })`): PostgreSQL delivers it only once that transaction commits, so
 * the relay looks at once instead of at its next pass. Each time it starts listening it asks for a look too,
 * for what committed before (at start, or while the connection was down); the pass still runs on its timer.
 */
export function listenForOutsideSends(options: OutsideListenerOptions): { stop(): Promise<void> } {
  let stopped = false
  /** The connection listening (or about to), if any: at most one at a time. */
  let client: PoolClient | undefined
  let retry: NodeJS.Timeout | undefined
  let starting: Promise<void> | undefined

  function listenLater(): void {
    if (stopped || retry) return
    retry = setTimeout(() => {
      retry = undefined
      start()
    }, options.retryAfterMs)
    retry.unref()
  }

  /** Lets `lost` go (its connection failed: it is closed, not pooled), once, and listens again later. */
  function drop(lost: PoolClient, error: unknown): void {
    if (client !== lost) return
    client = undefined
    lost.removeAllListeners('notification')
    lost.release(error instanceof Error ? error : true)
    listenLater()
  }

  function start(): void {
    starting = (async () => {
      let connected: PoolClient
      try {
        connected = await options.connect()
      } catch {
        // The database is away (the relay's pass reports that): listen again once it may be back.
        return listenLater()
      }
      if (stopped || client) return connected.release()
      client = connected
      connected.on('notification', (message) => options.onNotify(message.payload))
      connected.once('error', (error) => drop(connected, error))
      try {
        await connected.query(listenOutside(options.channel))
      } catch (error) {
        drop(connected, error)
        return
      }
      options.onListening()
    })()
  }

  start()
  return {
    async stop() {
      stopped = true
      if (retry) clearTimeout(retry)
      await starting
      const listening = client
      client = undefined
      if (listening) {
        listening.removeAllListeners('notification')
        // Not back to the pool with its LISTEN still on: the connection is closed.
        listening.release(true)
      }
    },
  }
}
