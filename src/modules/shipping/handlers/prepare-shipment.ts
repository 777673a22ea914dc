import { handle } from '../../../bus/index.js'
import { OrderPlaced } from '../../sales/messages.js'

/** Starts packing as soon as an order is placed; shipping waits for billing (see ship-billed-order). */
export const prepareShipment = handle(OrderPlaced, async (order, context) => {
  context.log.info(`Received OrderPlaced, OrderId = ${order.orderId} - should we ship now?`)
})
