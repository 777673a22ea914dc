import { handle } from '../../../bus/index.js'
import { OrderBilled } from '../../billing/messages.js'

/** Billing is done for the order: it can leave the warehouse. */
export const shipBilledOrder = handle(OrderBilled, async (order, context) => {
  context.log.info(`Received OrderBilled, OrderId = ${order.orderId} - should we ship now?`)
})
