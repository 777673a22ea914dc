import { defineModule, type RecoverabilityOptions } from '../../bus/index.js'
import { OrderShipped, OrderShippingDelayed } from './messages.js'
import { shippingPolicySaga } from './sagas/shipping-policy-saga.js'
import { Shipments, type Shipment } from './shipments.js'

export interface ShippingOptions {
  recoverability?: RecoverabilityOptions
  /** How long Shipping waits for billing before it reports the shipment delayed. @default 30 s */
  billingWaitMs?: number
  /** @default 4 */
  concurrency?: number
}

/** Shipping ships an order once it is both placed and billed: a saga started by either event. */
export function createShipping(options: ShippingOptions = {}) {
  const module = defineModule({
    name: 'shipping',
    concurrency: options.concurrency ?? 4,
    tables: [Shipments],
    publishes: [OrderShipped, OrderShippingDelayed],
    sagas: [shippingPolicySaga({ billingWaitMs: options.billingWaitMs ?? 30_000 })],
    ...(options.recoverability ? { recoverability: options.recoverability } : {}),
  })
  return { module, Shipments }
}

/** Shipping's side of an order, as the console shows it. */
export function shippingView(state: Shipment | undefined): Record<string, unknown> {
  return state
    ? { placed: state.placed, billed: state.billed, delayed: state.delayed, shipped: state.shippedAt !== undefined, ...(state.shippedAt ? { shippedAt: state.shippedAt } : {}) }
    : { shipped: false }
}
