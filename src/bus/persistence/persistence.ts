import type { ConversationStep } from '../audit/conversation-step.js'
import type { Clock } from '../clock.js'
import type { TableDefinition } from '../data/define-table.js'
import type { ModuleTables, Reservation, TableState } from '../data/module-tables.js'
import type { Table, TableReader } from '../data/table.js'
import type { Envelope } from '../messages/envelope.js'
import type { DeliveryState, FailureRecord, OutgoingEntry } from '../delivery/delivery.js'
import type { SagaChange, SagaInstance, SagaStore } from '../sagas/saga-store.js'
import type { QueueTables } from '../transport/transport.js'

/** A record cut short at the end of a file (a power cut mid-write): dropped at start, and reported. */
export interface TornTail {
  file: string
  /** Where the dropped bytes began. */
  offset: number
  droppedBytes: number
  reason: string
}

/**
 * What replay found. Pending deliveries (kind undefined) come without their message (`env`): it is on disk
 * and read back with `readBack`. Deliveries whose record here holds the message (retried, delayed,
 * failed) have it.
 */
export interface Recovered {
  /** Per module, deliveries ready to handle, oldest first. */
  queued: Map<string, DeliveryState[]>
  /** Deliveries waiting for a time: deferred sends and delayed retries. */
  delayed: DeliveryState[]
  failed: DeliveryState[]
  /** Pending deliveries for modules this bus does not run (a broker transport forwards them). */
  elsewhere: DeliveryState[]
  /** Deliveries in other states (delayed, failed) for modules this bus does not run; kept on disk. */
  orphaned: number
  tornTails: TornTail[]
  records: number
}

/** Housekeeping a persistence does by itself; the bus asks for it when it is quiet, and waits for it when idle. */
export interface Maintenance {
  request(): void
  /** Asks for a pass if something new could be cleaned up since the last one (the bus went quiet). */
  requestIfSealedSince(): void
  runNow(): Promise<void>
  idle(): Promise<void>
}

/**
 * What a delivery came to, as one `commit` writes it (a discriminated union: one variant per outcome).
 * - `handled`: its handlers succeeded; with everything they sent, the saga instances and the documents they
 *   changed, and the audit's notes (failed attempts before this one, sagas that ran).
 * - `delayed`: a delayed retry at `at`, the message (`env`) carrying its round count.
 * - `failed`: to the error queue, the message carrying its failure headers.
 * - `retried`: a person sent it back from the error queue (the message carrying its retry count).
 * - `archived`: a person deleted it from the error queue (kept apart for people first).
 * - `parked`: a broker's error queue took it (with a broker transport).
 */
export type Outcome =
  | { kind: 'handled'; sent: OutgoingEntry[]; sagas?: SagaChange[]; data?: Reservation; audit?: HandledAudit }
  | { kind: 'delayed'; env: Envelope; at: number; failures: FailureRecord[] }
  | { kind: 'failed'; env: Envelope; failures: FailureRecord[] }
  | { kind: 'retried'; env: Envelope }
  | { kind: 'archived' }
  | { kind: 'parked' }

/** What the audit notes beside a handled step. */
export interface HandledAudit {
  failures?: readonly FailureRecord[]
  sagas?: readonly string[]
}

/**
 * Messages and their deliveries: what recovery finds, what is sent from outside a handler, and what each
 * delivery came to. Each commit resolves once durable; everything one handled message changed commits
 * together or not at all.
 */
export interface MessageStore {
  open(): Promise<Recovered>
  /** The messages of waiting deliveries that were kept on disk only. */
  readBack(states: readonly DeliveryState[]): Promise<Map<DeliveryState, Envelope>>
  /** Whether the delivery's message may leave memory while it waits: `readBack` finds it again. */
  canReadBack(state: DeliveryState): boolean
  /**
   * Sends from outside a handler; resolves with the new deliveries once durable. With `transaction` (a
   * database persistence: the caller's own open transaction) the messages join it and leave only once it
   * commits: the persistence relays them then, and resolves with none.
   */
  commitOutside(msgs: OutgoingEntry[], transaction?: unknown): Promise<DeliveryState[]>
  /**
   * What `module`'s delivery came to. Resolves with the new deliveries (those a handled message sent).
   * A handled outcome's reservation is settled either way.
   */
  commit(module: string, state: DeliveryState, outcome: Outcome): Promise<DeliveryState[]>
}

/** With a broker transport: messages the broker delivers here, and the deliveries it took from here. */
export interface BrokerInbox {
  /** A broker's message for `module` already known here (handled, or on its way), or undefined. */
  deliveryOf(id: string, module: string): DeliveryState | undefined
  /**
   * A broker's message for `module`, new here: its delivery. `receipt` names its row when the transport's
   * queues are tables of this persistence's database (see PersistenceContext.queues).
   */
  received(env: Envelope, module: string, now: number, receipt?: string): DeliveryState
  /** Whether the delivery's outcome deleted its row from the transport's queue already (in that outcome's own transaction). */
  consumedAtSource(state: DeliveryState): boolean
  /** Forgets a broker's delivery that was never handled (it goes back to the broker). */
  forget(state: DeliveryState): void
  /** The broker confirmed it took these deliveries (of any modules): they are no longer pending here. */
  forwarded(states: readonly DeliveryState[]): Promise<void>
}

/** The modules' own state: saga instances, tables, the audit of conversations. */
export interface ModuleStorage {
  /** Active saga instances. */
  readonly sagas: SagaStore
  /** A module's tables kept in journal files, or undefined when it declares none (or does not run here, or they are kept elsewhere). */
  data(module: string): ModuleTables | undefined
  /** Whether this process reads `module`'s tables (its own journal files, or a database every instance shares). */
  holdsDataOf(module: string): boolean
  /** A module's table read outside handlers (web routes, scripts); undefined when this persistence does not hold the module's data. */
  tableReader(module: string, definition: TableDefinition): TableReader<unknown> | undefined
  /** The steps of a conversation at these modules, as their audits hold them. */
  conversation(modules: readonly string[], conversationId: string): Promise<ConversationStep[]>
  /** The bus's own deletions of documents (the audit's retention), skipping keys being written. */
  commitDeletes(module: string, table: TableState, keys: readonly string[]): Promise<number>
}

/** A database every instance shares: attempts in transactions of their own. Journal files have neither. */
export interface SharedStore {
  /**
   * Each attempt at a message runs inside a transaction of its own, which the handlers' reads and writes,
   * their saga instances and their own SQL join. (Journal files check an attempt's writes and append them
   * as one record instead.)
   */
  readonly transactions?: AttemptTransactions
  /** Every instance of a module shares this store: what it counts (active sagas) is every instance's. */
  readonly shared?: boolean
}

/** Housekeeping and the persistence's own lifecycle. */
export interface Housekeeping {
  readonly maintenance: Maintenance
  /** Bytes kept (the console's monitoring shows them). */
  totalBytes(): number
  flushed(): Promise<void>
  close(): Promise<void>
}

/**
 * Where the bus keeps what must survive a crash: messages and their deliveries, the outcome of each,
 * saga instances, modules' tables and the audit. It is these roles together; each part of the bus asks
 * for the roles it uses. Journal files implement it (src/bus/outbox/outbox.ts), and so does PostgreSQL
 * (src/bus/persistence/postgres/); `mailroom/testing`'s persistence conformance checks hold them to it.
 */
export interface Persistence extends MessageStore, BrokerInbox, ModuleStorage, SharedStore, Housekeeping {}

/** Attempts at handling messages, each in a database transaction of its own. */
export interface AttemptTransactions {
  /**
   * Begins an attempt at `state` in `module`. Throws AlreadyHandledError when the module (any instance of
   * it) handled the message already, here or later in the attempt (the delivery is then settled as
   * handled), and PersistenceUnavailableError when the database cannot be reached (it is tried again later).
   */
  begin(module: string, state: DeliveryState): Promise<AttemptTransaction>
  /** Whether the database aborted the attempt because it collided with another (a deadlock): it runs again. */
  isConflict(error: unknown): boolean
}

/** One attempt's transaction. Ends with `commit` or `rollback`, exactly once. */
export interface AttemptTransaction {
  /** The database session the handlers' own SQL runs on (for PostgreSQL, a pg PoolClient inside the transaction). */
  session(): Promise<unknown>
  /** One of the module's tables inside the transaction: a read locks the document until the transaction ends. */
  table<Doc>(definition: TableDefinition): Table<Doc>
  /** A saga instance, locked until the transaction ends. */
  saga(saga: string, correlationId: string): Promise<SagaInstance | undefined>
  /**
   * Commits the attempt: the inbox mark, the handlers' SQL and table writes, the saga changes, the outgoing
   * messages and the audit step, together. Resolves with the new deliveries.
   */
  commit(msgs: OutgoingEntry[], sagas: SagaChange[], audit: HandledAudit | undefined): Promise<DeliveryState[]>
  rollback(): Promise<void>
}

/** The module handled this message already (another instance, or an earlier delivery): nothing of the attempt runs or commits. */
export class AlreadyHandledError extends Error {
  constructor(
    readonly messageId: string,
    readonly module: string,
  ) {
    super(`Message ${messageId} was handled by ${module} already`)
    this.name = 'AlreadyHandledError'
  }
}

/** What the bus tells a persistence it creates. */
export interface PersistenceContext {
  /** The modules this process runs. */
  modules: readonly string[]
  /** Every module of the bus (those run elsewhere too). */
  allModules: readonly string[]
  /** Per module (those run elsewhere too), the tables it declares. */
  tables: ReadonlyMap<string, readonly TableDefinition[]>
  /** Keep the audit of conversations. */
  audit: boolean
  /** How long the audit keeps a step (ms), when it is kept. */
  auditMaxAgeMs?: number
  /** How many conversations the audit keeps per module (the oldest go first), when it is kept. */
  auditMaxConversations?: number
  /** Messages handled at once here, all modules together (the most attempts open at one time). */
  concurrency: number
  clock: Clock
  /** Whether the transport reaches other processes (a broker), where other instances of a module may run. */
  reachesOtherProcesses: boolean
  onError: (error: unknown, during: string) => void
  /**
   * The transport's queues, when they are tables of a database (the PostgreSQL transport). A persistence in
   * that same database commits a handler's sends into them, and consumes the handled message's row, in the
   * handler's own transaction; others ignore them.
   */
  queues?: QueueTables
  /**
   * Hands the bus deliveries the persistence found pending by itself: committed in a caller's own
   * transaction, or left behind by an instance that died before passing them on.
   */
  relay: (states: DeliveryState[]) => void
}

/** A persistence other than the journal files: `createBus({ persistence })` (e.g. postgresPersistence from mailroom/postgres). */
export type PersistenceFactory = (context: PersistenceContext) => Persistence
