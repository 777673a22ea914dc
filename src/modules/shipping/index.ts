import { defineModule, type RecoverabilityOptions } from '../../bus/index.js'
import { OrderShipped, OrderShippingDelayed } from './messages.js'
import { shippingPolicySaga } from './sagas/shipping-policy-saga.js'
import { createShipments } from './shipments.js'

export interface ShippingOptions {
  recoverability?: RecoverabilityOptions
  /** How long Shipping waits for billing before it reports the shipment delayed. @default 30 s */
  billingWaitMs?: number
  /** @default 4 */
  concurrency?: number
}

/** Shipping ships an order once it is both placed and billed: a saga started by either event. */
export function createShipping(options: ShippingOptions = {}) {
  const shipments = createShipments()
  const module = defineModule({
    name: 'shipping',
    concurrency: options.concurrency ?? 4,
    publishes: [OrderShipped, OrderShippingDelayed],
    sagas: [shippingPolicySaga(shipments, { billingWaitMs: options.billingWaitMs ?? 30_000 })],
    ...(options.recoverability ? { recoverability: options.recoverability } : {}),
  })
  return {
    module,
    orderState: (orderId: string) => {
      const state = shipments.find(orderId)
      return state
        ? { placed: state.placed, billed: state.billed, delayed: state.delayed, shipped: state.shippedAt !== undefined, ...(state.shippedAt ? { shippedAt: state.shippedAt } : {}) }
        : { shipped: false }
    },
  }
}
