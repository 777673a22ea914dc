import type { ModuleData, Reservation, TableState } from '../data/module-data.js'
import type { Envelope } from '../messages/envelope.js'
import type { DeliveryState } from '../outbox/delivery-ledger.js'
import type { TornTail } from '../outbox/journal.js'
import type { FailureRecord, OutgoingEntry } from '../outbox/record.js'
import type { SagaChange, SagaStore } from '../sagas/saga-store.js'

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
  /** Sends from outside a handler; resolves with the new deliveries once durable. */
  commitOutside(msgs: OutgoingEntry[]): Promise<DeliveryState[]>
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
  /** A module's tables, or undefined when it declares none (or does not run here). */
  data(module: string): ModuleData | undefined
  readonly maintenance: Maintenance
  /** Bytes kept (the console's monitoring shows them). */
  totalBytes(): number
  flushed(): Promise<void>
  close(): Promise<void>
}
