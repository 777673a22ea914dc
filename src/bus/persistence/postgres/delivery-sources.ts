import type { DeliveryState } from '../../delivery/delivery.js'
import { inRowOrder } from './batched-statements.js'
import { newDelivery, type DeliverySource, type OutboxRowRead } from './outbox-rows.js'

/**
 * Where each delivery this process holds came from (an outbox row, or a row of the module's waiting
 * table): its outcome ends that row in the same transaction. Kept beside the deliveries, not in them.
 */
export class DeliverySources {
  readonly #sources = new WeakMap<DeliveryState, DeliverySource>()
  /** Deliveries whose source row went in their handled transaction (a transport's queue row). */
  readonly #consumed = new WeakSet<DeliveryState>()

  get(delivery: DeliveryState): DeliverySource | undefined {
    return this.#sources.get(delivery)
  }

  has(delivery: DeliveryState): boolean {
    return this.#sources.has(delivery)
  }

  set(delivery: DeliveryState, source: DeliverySource): void {
    this.#sources.set(delivery, source)
  }

  /** `delivery`'s attempt committed: a queue row it came from went with it. */
  committed(delivery: DeliveryState): void {
    if (this.#sources.get(delivery)?.kind === 'queue') this.#consumed.add(delivery)
  }

  /** Whether `delivery`'s queue row was deleted in its handled transaction (the transport has nothing to delete). */
  consumedAtSource(delivery: DeliveryState): boolean {
    return this.#consumed.has(delivery)
  }

  /** Deliveries just made, with where each came from: remembered, and returned. */
  track(produced: readonly { state: DeliveryState; source: DeliverySource }[]): DeliveryState[] {
    for (const { state, source } of produced) this.#sources.set(state, source)
    return produced.map(({ state }) => state)
  }

  /** Rows of an outbox (`schema`) as deliveries, one per row (each row has one destination), in the order they were written. */
  fromOutboxRows(schema: string, rows: OutboxRowRead[]): DeliveryState[] {
    return this.track(
      inRowOrder(rows).map((row) => ({
        state: newDelivery(row.envelope.id, row.destinations[0]!, row.envelope, row.due_at?.getTime(), row.created_at.getTime()),
        source: { kind: 'outbox' as const, schema, rowId: row.id },
      })),
    )
  }
}
