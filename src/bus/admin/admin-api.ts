import type { BacklogProgress } from '../endpoint/backlog.js'
import type { ConversationStep } from '../audit/conversation-step.js'
import type { BusEmitter, LogLine } from '../signals.js'
import type { TransportStatus } from '../transport/transport-status.js'
import type { FailedMessage } from '../recoverability/error-queue.js'
import type { RetrySchedule } from '../recoverability/policy.js'

export interface ModuleStatus {
  name: string
  running: boolean
  concurrency: number
  /** Deliveries waiting to be handled now. */
  queueLength: number
  /** Of those, the messages kept on disk only (past the bus's `queuedInMemory`), read back in turn. */
  queuedOnDisk: number
  inFlight: number
  /** Deliveries waiting for a time (deferred sends, delayed retries). */
  delayed: number
  /** Deliveries settled (handled, delayed or failed) per second over the last ten seconds. */
  perSecond: number
  /** How long the queue takes to clear at that pace (ms); absent when it is empty or nothing is settling. */
  clearsInMs?: number
  /**
   * The queue the module found when it last started (after a restart, or Start after Stop) and how much of
   * it still waits: it is taken in arrival order, before what came later. Absent when it found none.
   */
  backlog?: BacklogProgress
  errorQueueLength: number
  /** Since this process started. */
  handled: number
  failed: number
  retries: number
  /** A person switched on "every handler throws" (the console's Inject fault). */
  faultInjected: boolean
  /** Share of handler attempts made to fail on purpose (admin.setFaultRate). */
  faultRate: number
  /** The module's rate limit, if it has one. */
  maxPerSecond: number | undefined
  averageProcessingTimeMs: number
  averageCriticalTimeMs: number
  /** Names of the module's sagas. */
  sagas: string[]
  /** Active saga instances. */
  activeSagas: number
  /** Whether `activeSagas` counts every instance's (a store they share, such as PostgreSQL), not this process's own. */
  sagasShared: boolean
  /** Where it runs: `here`, or in another process (its status comes over the broker; `stale` once its reports stopped). */
  location: 'here' | 'elsewhere' | 'stale'
  /**
   * For a module in other processes: each process that runs it (competing consumers on its queue), as it
   * last reported; the figures above are the module's totals over them.
   */
  instances?: ModuleInstance[]
}

/** One process running a module, as the console last heard from it. */
export interface ModuleInstance {
  /** Which process: host and pid. */
  id: string
  running: boolean
  handled: number
  failed: number
  inFlight: number
  /** When its last report came (ms since epoch). */
  lastSeen: number
  /** false once its reports stopped. */
  reporting: boolean
}

export interface RetryResult {
  /** Keys (`module:id`) of the messages sent back to their queues. */
  retried: string[]
  /** Ids or keys not in the error queue (already retried or deleted, or never failed). */
  notFound: string[]
}

export interface DeleteResult {
  deleted: string[]
  notFound: string[]
}

/** What the web console (and scripts) may do with a running bus. */
export interface SagaInstanceView {
  saga: string
  /** The correlation id, e.g. the order id. */
  id: string
  data: unknown
}

export interface AdminApi {
  modules(): ModuleStatus[]
  module(name: string): ModuleStatus
  stopModule(name: string): void
  startModule(name: string): void
  /** Newest failure first. */
  failedMessages(): FailedMessage[]
  retryFailed(idsOrKeys: readonly string[]): Promise<RetryResult>
  retryAllFailed(): Promise<RetryResult>
  deleteFailed(idsOrKeys: readonly string[]): Promise<DeleteResult>
  retrySchedule(module: string): RetrySchedule
  /**
   * A conversation's steps, in time order, from the modules' audit (durable: it outlives restarts within
   * the audit's retention): those of this process's modules as they are, those of modules in other
   * processes (with a broker) as they last reported them (asking starts the reports: a second behind).
   * [] when no module has it or the audit is off.
   */
  conversation(conversationId: string): Promise<ConversationStep[]>
  /** The module's last log lines, oldest first. */
  logs(module: string): readonly LogLine[]
  /** Every module the console can show: this process's, and with a broker, those other processes report. */
  moduleNames(): string[]
  /** The module's active saga instances with their data (copies), by saga name then correlation id. */
  sagas(module: string): SagaInstanceView[]
  /** While on, every delivery to the module fails with InjectedFaultError before its handlers run (a teaching aid). */
  setFault(module: string, on: boolean): void
  /** Makes `rate` (0..1) of the module's handler attempts fail with InjectedFaultError: transient faults that retries absorb. */
  setFaultRate(module: string, rate: number): void
  journalBytes(): number
  /**
   * What the module can tell about `key` (the shop: an order's state by id): asked of the module here,
   * or, for a module in another process, its latest report (undefined until it reported the key).
   */
  view(module: string, key: string): unknown
  /** How deliveries travel: embedded, or the broker connection's state. */
  transport(): TransportStatus
  /** Each module's queue length at the broker (modules in other processes included); undefined when embedded or disconnected. */
  brokerQueueLengths(): Promise<Record<string, number> | undefined>
  readonly events: BusEmitter
}
