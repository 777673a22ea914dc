import { handle } from '../../../bus/index.js'
import { OrderPlaced } from '../../sales/messages.js'
import { OrderBilled } from '../messages.js'

/** Charges the card for a placed order and tells whoever cares. */
export const chargeForOrder = handle(OrderPlaced, async (order, context) => {
  context.log.info(`Received OrderPlaced, OrderId = ${order.orderId} - charging credit card`)
  await context.publish(OrderBilled, { orderId: order.orderId })
})
