import { handle } from '../../../bus/index.js'
import { OrderPlaced, PlaceOrder } from '../messages.js'
import type { OrderBook } from '../order-book.js'

/** Records the order and announces it; Billing and Shipping react to OrderPlaced. */
export function placeOrder(orders: OrderBook, now: () => number = Date.now) {
  return handle(
    PlaceOrder,
    async (order, context) => {
      context.log.info(`Received PlaceOrder, OrderId = ${order.orderId}`)
      orders.record(order.orderId, order.items, now())
      await context.publish(OrderPlaced, { orderId: order.orderId, items: order.items })
    },
    { name: 'placeOrder' },
  )
}
