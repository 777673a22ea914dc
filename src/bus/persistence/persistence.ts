import type { ConversationStep } from '../audit/conversation-step.js'
import type { Clock } from '../clock.js'
import type { TableDefinition } from '../data/define-table.js'
import type { ModuleData, Reservation, TableState } from '../data/module-data.js'
import type { Table, TableReader } from '../data/table.js'
import type { Envelope } from '../messages/envelope.js'
import type { DeliveryState } from '../outbox/delivery-ledger.js'
import type { TornTail } from '../outbox/journal.js'
import type { FailureRecord, OutgoingEntry } from '../outbox/record.js'
import type { SagaChange, SagaInstance, SagaStore } from '../sagas/saga-store.js'

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
 * Where the bus keeps what must survive a crash: messages and their deliveries, the outcome of each
 * (handled with what it sent, delayed, failed, retried, archived, forwarded to a broker), saga instances,
 * modules' tables and the audit. Each `commit…` resolves once durable; everything one handled message
 * changed commits together or not at all. Journal files implement it today (src/bus/outbox/outbox.ts);
 * the pipeline, the admin API, the transport host and the audit's retention use only this interface.
 */
export interface Persistence {
  open(): Promise<Recovered>
  /** The messages of waiting deliveries that were kept on disk only. */
  readBack(states: readonly DeliveryState[]): Promise<Map<DeliveryState, Envelope>>
  /**
   * Sends from outside a handler; resolves with the new deliveries once durable. With `transaction` (a
   * database persistence: the caller's own open transaction) the messages join it and leave only once it
   * commits: the persistence relays them then, and resolves with none.
   */
  commitOutside(msgs: OutgoingEntry[], transaction?: unknown): Promise<DeliveryState[]>
  /**
   * One message handled by `module`, with everything its handlers sent, the saga instances and the
   * documents they changed: all or nothing. Resolves with the new deliveries. The reservation is settled either way.
   */
  commitHandled(module: string, state: DeliveryState, msgs: OutgoingEntry[], sagas?: SagaChange[], data?: Reservation, audit?: { failures?: readonly FailureRecord[]; sagas?: readonly string[] }): Promise<DeliveryState[]>
  commitDelayed(module: string, state: DeliveryState, env: Envelope, at: number, failures: FailureRecord[]): Promise<void>
  commitFailed(module: string, state: DeliveryState, env: Envelope, failures: FailureRecord[]): Promise<void>
  commitRetried(module: string, state: DeliveryState, env: Envelope): Promise<void>
  /** Keeps the failed message apart for people, then marks it archived. */
  commitArchived(module: string, state: DeliveryState): Promise<void>
  /** The broker's error queue took the failed delivery (with a broker transport). */
  commitParked(module: string, state: DeliveryState): Promise<void>
  /** The broker confirmed it took these deliveries: they are no longer pending here. */
  commitForwarded(states: readonly DeliveryState[]): Promise<void>
  /** The bus's own deletions of documents (the audit's retention), skipping keys being written. */
  commitDeletes(module: string, table: TableState, keys: readonly string[]): Promise<number>
  /** A broker's message for `module` already known here (handled, or on its way), or undefined. */
  deliveryOf(id: string, module: string): DeliveryState | undefined
  /** A broker's message for `module`, new here: its delivery. */
  received(env: Envelope, module: string, now: number): DeliveryState
  /** Forgets a broker's delivery that was never handled (it goes back to the broker). */
  forget(state: DeliveryState): void
  /** Active saga instances. */
  readonly sagas: SagaStore
  /** A module's tables kept in journal files, or undefined when it declares none (or does not run here, or they are kept elsewhere). */
  data(module: string): ModuleData | undefined
  /** Whether this process reads `module`'s tables (its own journal files, or a database every instance shares). */
  holdsDataOf(module: string): boolean
  /** A module's table read outside handlers (web routes, scripts); undefined when this persistence does not hold the module's data. */
  tableReader(module: string, definition: TableDefinition): TableReader<unknown> | undefined
  /** The steps of a conversation at these modules, as their audits hold them. */
  conversation(modules: readonly string[], conversationId: string): Promise<ConversationStep[]>
  /**
   * A database persistence: each attempt at a message runs inside a transaction of its own, which the
   * handlers' reads and writes, their saga instances and their own SQL join. Journal files have none
   * (an attempt's writes are checked and appended as one record instead).
   */
  readonly transactions?: AttemptTransactions
  /** Every instance of a module shares this store (a database): what it counts (active sagas) is every instance's. */
  readonly shared?: boolean
  readonly maintenance: Maintenance
  /** Bytes kept (the console's monitoring shows them). */
  totalBytes(): number
  flushed(): Promise<void>
  close(): Promise<void>
}

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
  commit(msgs: OutgoingEntry[], sagas: SagaChange[], audit: { failures?: readonly FailureRecord[]; sagas?: readonly string[] } | undefined): Promise<DeliveryState[]>
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
   * Hands the bus deliveries the persistence found pending by itself: committed in a caller's own
   * transaction, or left behind by an instance that died before passing them on.
   */
  relay: (states: DeliveryState[]) => void
}

/** A persistence other than the journal files: `createBus({ persistence })` (e.g. postgresPersistence from mailroom/postgres). */
export type PersistenceFactory = (context: PersistenceContext) => Persistence
