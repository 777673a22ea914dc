import type { Clock } from '../clock.js'
import type { DeliveryState } from '../delivery/delivery.js'
import type { LocalModules } from '../endpoint/local-modules.js'
import { createDelayScheduler } from '../scheduling/delay-scheduler.js'
import type { Transport } from '../transport/transport.js'

/**
 * Where committed deliveries go next: those due now to the transport (which queues them in their module
 * here, or sends them to the broker), those due later to a scheduler until their time. Every delivery
 * reaches it only after its persistence made it durable.
 */
export interface Dispatcher {
  /** Hands deliveries due now to the transport, and those due later to the scheduler. */
  dispatch(deliveries: readonly DeliveryState[]): void
  /**
   * Holds a delivery until its `at`: then a delayed retry goes back to its module's queue here (its record
   * is this process's), and a deferred message to the transport (its module may run elsewhere).
   */
  delay(delivery: DeliveryState): void
  /** Releases nothing more (the bus stops). */
  stop(): void
}

export interface DispatcherDeps {
  clock: Clock
  transport: Transport
  /** This process's modules: their queues, and how many of their deliveries wait for a time. */
  local: LocalModules
}

export function createDispatcher({ clock, transport, local }: DispatcherDeps): Dispatcher {
  const scheduler = createDelayScheduler<DeliveryState>(clock, (delivery) => {
    local.countDelayed(delivery.module, -1)
    if (delivery.kind === 'delayed') local.find(delivery.module)?.enqueue(delivery)
    else transport.deliver([delivery])
  })

  function delay(delivery: DeliveryState): void {
    local.countDelayed(delivery.module, 1)
    scheduler.add(delivery.at ?? clock.now(), delivery)
  }

  return {
    dispatch(deliveries) {
      const now = clock.now()
      const due: DeliveryState[] = []
      for (const delivery of deliveries) {
        // A broker that holds deferred messages takes them now and keeps them until due.
        if (delivery.at !== undefined && delivery.at > now && !transport.holdsDeferred) delay(delivery)
        else due.push(delivery)
      }
      if (due.length > 0) transport.deliver(due)
    },
    delay,
    stop: () => scheduler.stop(),
  }
}
