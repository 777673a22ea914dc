import type { DeliveryState } from '../delivery/delivery.js'

/**
 * With a broker: deliveries its latest attempt handed to the broker (a delay queue, the error queue). The
 * failure sink marks them once the broker confirmed; the transport host, told the delivery settled, takes
 * the mark to acknowledge the broker's copy even if the journal's `parked` record failed.
 */
export class ParkedAtBroker {
  readonly #parked = new Set<DeliveryState>()

  mark(delivery: DeliveryState): void {
    this.#parked.add(delivery)
  }

  /** Whether the delivery was parked by its latest attempt; the mark is used up. */
  take(delivery: DeliveryState): boolean {
    return this.#parked.delete(delivery)
  }
}
