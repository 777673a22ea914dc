import { defineModule, type RecoverabilityOptions } from '../../bus/index.js'
import { noteBilledOrder, notePlacedOrder } from './handlers/ship-when-ready.js'
import { OrderShipped } from './messages.js'
import { createShipments } from './shipments.js'

export interface ShippingOptions {
  recoverability?: RecoverabilityOptions
}

/** Shipping subscribes to OrderPlaced and OrderBilled and publishes OrderShipped once both arrived. */
export function createShipping(options: ShippingOptions = {}) {
  const shipments = createShipments()
  const module = defineModule({
    name: 'shipping',
    concurrency: 4,
    publishes: [OrderShipped],
    handlers: [notePlacedOrder(shipments), noteBilledOrder(shipments)],
    ...(options.recoverability ? { recoverability: options.recoverability } : {}),
  })
  return {
    module,
    orderState: (orderId: string) => {
      const state = shipments.find(orderId)
      return state ? { placed: state.placed, billed: state.billed, shipped: state.shippedAt !== undefined, ...(state.shippedAt ? { shippedAt: state.shippedAt } : {}) } : { shipped: false }
    },
  }
}
