import type pg from 'pg'

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
  /**
   * How long a send from outside handlers whose commit's answer the connection lost (the server restarted)
   * waits for the database to come back and say whether it committed (ms); past it, the send rejects with
   * MAILROOM_ERR_PERSISTENCE_OUTCOME_UNKNOWN. @default 5000
   */
  lostAnswerWaitMs?: number
}

export const knownOptions = ['connectionString', 'pool', 'prefix', 'maxConnections', 'relayEveryMs', 'takeOverAfterMs', 'keepHandledMs', 'lostAnswerWaitMs']

/** The schema of messages sent from outside any handler. */
export const outsideModule = '_outside'
