import type { Clock } from '../clock.js'
import type { Envelope } from '../messages/envelope.js'
import type { DeliveryState } from '../delivery/delivery.js'
import type { MessageStore } from '../persistence/persistence.js'
import type { FailureRecord } from '../delivery/delivery.js'
import type { Transport } from '../transport/transport.js'

/**
 * Where a failed delivery goes once the policy decided: a delayed retry, or the error queue. Each
 * resolves once that is durable; a rejection leaves the delivery where it was, to be tried again.
 */
export interface FailureSink {
  retryLater(state: DeliveryState, env: Envelope, failures: FailureRecord[], delayMs: number): Promise<void>
  giveUp(state: DeliveryState, failedEnv: Envelope, failures: FailureRecord[]): Promise<void>
}

/** The embedded way: the module's journal holds both (a `delayed` record and the scheduler; a `failed` record and the error queue in memory). */
export function journalFailureSink(deps: { module: string; outbox: MessageStore; clock: Clock; delay: (state: DeliveryState) => void; toErrorQueue: (state: DeliveryState) => void }): FailureSink {
  const { module, outbox, clock } = deps
  return {
    async retryLater(state, env, failures, delayMs) {
      await outbox.commit(module, state, { kind: 'delayed', env, at: clock.now() + delayMs, failures })
      deps.delay(state)
    },
    async giveUp(state, failedEnv, failures) {
      await outbox.commit(module, state, { kind: 'failed', env: failedEnv, failures })
      deps.toErrorQueue(state)
    },
  }
}

/**
 * With a broker: it holds both (a TTL queue that dead-letters into the module's queue; its error queue).
 * Once it confirmed, the module's journal marks the delivery `parked`, and the broker's copy of the message
 * may be acknowledged even if that mark fails (`parked` tells the transport so).
 */
export function brokerFailureSink(deps: { module: string; outbox: MessageStore; transport: Required<Pick<Transport, 'retryLater' | 'park'>>; parked: (state: DeliveryState) => void }): FailureSink {
  const { module, outbox, transport } = deps
  return {
    async retryLater(state, env, failures, delayMs) {
      await transport.retryLater(module, env, failures, delayMs)
      deps.parked(state)
      await outbox.commit(module, state, { kind: 'parked' })
    },
    async giveUp(state, failedEnv, failures) {
      await transport.park(module, failedEnv, failures)
      deps.parked(state)
      await outbox.commit(module, state, { kind: 'parked' })
    },
  }
}
