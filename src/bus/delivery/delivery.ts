import type { Envelope } from '../messages/envelope.js'

/**
 * The bus's vocabulary of deliveries, shared by the pipeline, the transports and every persistence. None
 * of it says where or how a persistence keeps things (journal segments and byte offsets, database rows):
 * each keeps that in a type of its own beside it (the journal's LedgerEntry, PostgreSQL's source of a row).
 *
 * A *delivery* is one message for one module, keyed (message id, module). An event gives one delivery per
 * subscriber; each is handled, retried and deduplicated on its own.
 */

/** One attempt that failed, newest first in a delivery's `failures`. */
export interface FailureRecord {
  /** When the attempt failed (ms since epoch). */
  at: number
  /** The handler that threw, `(validation)` or `(routing)` where no handler ran. */
  handler: string
  type: string
  message: string
  stack?: string
}

/** A message leaving: its envelope, the modules it goes to, and when it is due (deferred messages, saga timeouts). */
export interface OutgoingEntry {
  to: string[]
  at?: number
  env: Envelope
}

/**
 * Where a delivery stands, as its module last recorded it; undefined while it is pending (on its way, or
 * waiting for its turn in the module's queue).
 * - `handled`: done (its consumed mark deduplicates a redelivery); `archived`: a person deleted it from the
 *   error queue; `parked`: a broker's error queue holds it; `forwarded`: a broker took it (pending there).
 * - `delayed`: waits for a delayed retry at `at`; `failed`: in the error queue; `retried`: a person sent it
 *   back from the error queue, and it waits in its module's queue.
 */
export type DeliveryStatus = 'handled' | 'archived' | 'forwarded' | 'parked' | 'delayed' | 'failed' | 'retried'

/**
 * One message for one module, as the bus sees it. The bus owns it; a transport sees it read-only (its
 * `Delivery`); a persistence makes it (at recovery, at a commit that sends, at a broker's receive) and is
 * handed it back with each outcome.
 */
export interface DeliveryState {
  readonly id: string
  readonly module: string
  kind: DeliveryStatus | undefined
  /** The message; undefined while a persistence keeps it on disk only (read back with `readBack`). */
  env: Envelope | undefined
  /** Due time (ms) of a deferred delivery or a delayed retry. */
  at: number | undefined
  /** Every failed attempt so far, newest first (delayed, failed). */
  failures: FailureRecord[] | undefined
  /** When the delivery got where it is (ms): a recovered queue's order. */
  since: number
  /** Set while a broker's message waits for its outcome here: called once the delivery settled. */
  settled: ((delivery: DeliveryState) => void) | undefined
}
