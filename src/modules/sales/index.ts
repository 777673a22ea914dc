import { defineModule, type RecoverabilityOptions } from '../../bus/index.js'
import { placeOrder } from './handlers/place-order.js'
import { createOrderBook } from './order-book.js'

export interface SalesOptions {
  recoverability?: RecoverabilityOptions
}

/** Sales owns orders: it takes PlaceOrder and publishes OrderPlaced. */
export function createSales(options: SalesOptions = {}) {
  const orders = createOrderBook()
  const module = defineModule({
    name: 'sales',
    concurrency: 4,
    handlers: [placeOrder(orders)],
    ...(options.recoverability ? { recoverability: options.recoverability } : {}),
  })
  return {
    module,
    orderState: (orderId: string) => {
      const order = orders.find(orderId)
      return order ? { placed: true, items: order.items, placedAt: order.placedAt } : { placed: false }
    },
  }
}
