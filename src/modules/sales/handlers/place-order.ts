import { handle } from '../../../bus/index.js'
import { OrderPlaced, PlaceOrder } from '../messages.js'

/** Accepts an order and announces it; billing and shipping react to OrderPlaced. */
export const placeOrder = handle(PlaceOrder, async (order, context) => {
  context.log.info(`Received PlaceOrder, OrderId = ${order.orderId}`)
  await context.publish(OrderPlaced, { orderId: order.orderId, items: order.items })
})
