import type { Envelope } from '../messages/envelope.js'
import type { DeliveryState } from '../outbox/delivery-ledger.js'
import type { Topology } from '../routing/topology.js'

export type TransportKind = 'embedded' | 'amqp'

export interface TransportStatus {
  kind: TransportKind
  /** `embedded` is always connected; a broker connection may be lost and re-established. */
  state: 'connected' | 'connecting' | 'reconnecting' | 'closed'
  /** Where the broker is, without credentials. */
  address: string
  /** Deliveries handed over and not yet confirmed by the broker (they stay in the journal until then). */
  unconfirmed: number
  lastError: string | undefined
}

/** What a broker's message for a local module came to: acknowledge it, or let the broker deliver it again. */
export type ReceiveOutcome = 'ack' | 'requeue'

/** What the bus gives its transport when it starts. */
export interface TransportHost {
  /** Every module (for routing and bindings), not only those this process runs. */
  topology: Topology
  /** The modules this process runs. */
  localModules: readonly string[]
  /** Queues a delivery in its (local) module. */
  enqueueLocal(state: DeliveryState): void
  /** A broker's message for a local module: resolves once its outcome is on disk here, or it was a duplicate. */
  receive(module: string, env: Envelope): Promise<ReceiveOutcome>
  /** The broker confirmed it took these deliveries: record that, so they are not sent again. */
  forwarded(states: readonly DeliveryState[]): Promise<void>
  onError(error: unknown, during: string): void
}

/**
 * How deliveries reach their modules. The embedded transport queues them in this process; a broker
 * transport sends them to the module's queue, wherever the module runs, and feeds the local modules from
 * theirs. Either way the journal commits first: a transport only moves what is already durable.
 */
export interface Transport {
  readonly kind: TransportKind
  start(host: TransportHost): Promise<void>
  /** Hands deliveries that are due now to their modules. Never throws: a broker transport retries until confirmed. */
  deliver(states: readonly DeliveryState[]): void
  /** Deliveries handed over and not yet settled (confirmed and recorded): the bus is not idle while any are. */
  readonly pending: number
  status(): TransportStatus
  /** Messages waiting in each module's queue at the broker; undefined when the transport has none. */
  queueLengths(): Promise<Record<string, number> | undefined>
  /** Stops receiving, waits (a bounded time) for unconfirmed deliveries, closes the connection. */
  stop(): Promise<void>
}
