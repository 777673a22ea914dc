import type { Envelope } from '../messages/envelope.js'
import type { FailedMessage } from '../recoverability/error-queue.js'
import type { FailureRecord } from '../delivery/delivery.js'
import type { TransportKind, TransportStatus } from './transport-status.js'

export type { TransportKind, TransportStatus } from './transport-status.js'

/**
 * A message committed to the journal for one module, as a transport moves it. The bus owns it: a
 * transport reads it and hands it back (`enqueueLocal`, `forwarded`), never changes it.
 */
export interface Delivery {
  /** The message's id; deliveries of one event to several modules share it. */
  readonly id: string
  /** The module it is for. */
  readonly module: string
  /** The message. Always there when handed to `deliver`. */
  readonly env: Envelope | undefined
  /** When it is due (bus clock, ms since epoch), for a deferred message or a delayed retry. */
  readonly at: number | undefined
  /** The attempts that failed so far, newest first. */
  readonly failures: readonly FailureRecord[] | undefined
}

/** What a transport knows of the bus's modules: their names and concurrency, and who subscribes to which event. */
export interface TransportTopology {
  readonly modules: ReadonlyMap<string, { readonly concurrency: number }>
  /** Event type → the modules subscribed to it (a broker binds their queues to it). */
  readonly subscribers: ReadonlyMap<string, readonly string[]>
}

/**
 * The broker's error queue, browsed: its messages are held (unacknowledged) while people look at them;
 * a retry sends one back to its module's queue, a delete archives it, and either acknowledges it.
 */
export interface RemoteErrorQueue {
  list(): FailedMessage[]
  size(module?: string): number
  retry(keys: readonly string[]): Promise<{ retried: string[]; notFound: string[] }>
  delete(keys: readonly string[]): Promise<{ deleted: string[]; notFound: string[] }>
}

/**
 * What a broker's message for a local module came to: acknowledge it, let the broker deliver it again, or
 * nothing left to do (`consumed`: its row was deleted in the handler's own transaction, see QueueTables).
 */
export type ReceiveOutcome = 'ack' | 'requeue' | 'consumed'

/** A delivery as a row of a queue table: for `module`, visible after `delayMs` (0: now). */
export interface QueuedDelivery {
  module: string
  env: Envelope
  delayMs: number
}

/**
 * A transport whose queues are tables of a database (the PostgreSQL transport). A persistence in that same
 * database writes a handler's outgoing messages straight into them, and deletes the received message's row,
 * inside the handler's own transaction: sends commit with the receive, so nothing is relayed afterwards and
 * no copy is left to deduplicate.
 */
export interface QueueTables {
  /** Whether this database (a pool, or a connection string) is the one the queues are in. */
  sameDatabase(database: { pool?: unknown; connectionString?: string | undefined }): boolean
  /** Whether the queues' tables exist yet (with the database away at start, they are made once it answers). */
  readonly ready: boolean
  /** The statements that put these deliveries in their queues, in a caller's transaction (their consumers are woken at its commit). */
  enqueueStatements(rows: readonly QueuedDelivery[]): string[]
  /**
   * The same, for a transaction whose end the persistence reports (a handler's, a send from outside): a row
   * visible now for a module this process runs, with room, is written already claimed by it, and handed to it
   * once the transaction commits, with no claim and no NOTIFY between (it comes back to anyone after its
   * lease if this process dies first).
   */
  enqueueForCommit(rows: readonly QueuedDelivery[]): QueuedWrite
  /** The statement that deletes a received message's row, by the receipt the transport gave with it. */
  consumeStatement(receipt: string): string
}

/** Queue rows written in a persistence's transaction, which reports how it ended. */
export interface QueuedWrite {
  readonly statements: readonly string[]
  /** The transaction committed: `results` are those of `statements`, in order. */
  committed(results: readonly { rows: unknown[] }[]): void
  /** It did not commit, or nobody knows whether it did (an answer lost with the connection). */
  abandoned(): void
}

/** What the bus gives its transport when it starts. */
export interface TransportHost {
  /** Every module (for routing and bindings), not only those this process runs. */
  topology: TransportTopology
  /** The modules this process runs. */
  localModules: readonly string[]
  /** The bus clock: deliveries' due times are in its terms. */
  now(): number
  /** Queues a delivery in its (local) module. */
  enqueueLocal(delivery: Delivery): void
  /**
   * A broker's message for a local module: resolves once its outcome is on disk here, or it was a duplicate.
   * `receipt` (QueueTables' transports) names its row, which a persistence in the same database may consume.
   */
  receive(module: string, env: Envelope, failures?: FailureRecord[], receipt?: string): Promise<ReceiveOutcome>
  /** Keeps a message deleted from the broker's error queue for people, before the broker forgets it. */
  archive(message: FailedMessage): Promise<void>
  /** Nothing is pending in the transport any more: bus.idle() may be waiting for that. */
  drained(): void
  /** The broker confirmed it took these deliveries: record that, so they are not sent again. */
  forwarded(deliveries: readonly Delivery[]): Promise<void>
  onError(error: unknown, during: string): void
}

/**
 * How deliveries reach their modules. The embedded transport queues them in this process; a broker
 * transport sends them to the module's queue, wherever the module runs, and feeds the local modules from
 * theirs. Either way the journal commits first: a transport only moves what is already durable.
 */
export interface Transport {
  readonly kind: TransportKind
  /**
   * Whether it reaches modules in other processes (a broker) or only this process's (embedded). Only
   * the first can serve a `createBus({ runHere })` that leaves modules out, and it gets every delivery
   * from the bus, local ones included, so that a module's queue lives in one place.
   */
  readonly reachesOtherProcesses: boolean
  start(host: TransportHost): Promise<void>
  /**
   * Hands deliveries to their modules. Never throws: a broker transport retries until confirmed. The
   * embedded transport takes only those due now (the bus keeps the others in its scheduler); a broker
   * transport with `holdsDeferred` also takes deferred ones and lets the broker hold them until due.
   */
  deliver(deliveries: readonly Delivery[]): void
  /** Deferred deliveries (saga timeouts, deferred sends) wait at the broker rather than in this process. */
  readonly holdsDeferred: boolean
  /** Deliveries handed over and not yet settled (confirmed and recorded): the bus is not idle while any are. */
  readonly pending: number
  status(): TransportStatus
  /** A broker transport's error queue: takes a message that failed for good, resolves once confirmed. */
  park?(module: string, failedEnv: Envelope, failures: FailureRecord[]): Promise<void>
  /**
   * A broker transport's delayed retry: the message waits `delayMs` in a TTL queue, then dead-letters
   * into the module's queue, with the attempts so far. Resolves once confirmed.
   */
  retryLater?(module: string, env: Envelope, failures: FailureRecord[], delayMs: number): Promise<void>
  /** The broker's error queue as the console browses it (only where the transport was asked to). */
  readonly errorQueue?: RemoteErrorQueue
  /** Its queues as tables of a database, when they are (a persistence in the same database commits into them). */
  readonly queueTables?: QueueTables
  /** Messages waiting in each module's queue at the broker; undefined when the transport has none. */
  queueLengths(): Promise<Record<string, number> | undefined>
  /** Stops receiving, waits (a bounded time) for unconfirmed deliveries, closes the connection. */
  stop(): Promise<void>
}
