import { handle } from '../../../bus/index.js'
import { OrderPlaced } from '../../sales/messages.js'
import { Charges } from '../charges.js'
import { OrderBilled } from '../messages.js'
import type { PaymentGateway } from '../payment-gateway.js'

/** The key the gateway dedupes on: the same for every delivery of the order's charge, so a redelivery never charges twice. */
export const idempotencyKeyFor = (orderId: string) => `order-${orderId}`

/** Charges the card for a placed order (once, whatever is redelivered) and tells whoever cares. */
export function chargeForOrder(gateway: PaymentGateway, now: () => number = Date.now) {
  return handle(
    OrderPlaced,
    async (order, context) => {
      context.log.info({ orderId: order.orderId }, `Received OrderPlaced, OrderId = ${order.orderId} - charging credit card`)
      const { chargeId, duplicate } = await gateway.charge(idempotencyKeyFor(order.orderId), order.orderId)
      if (duplicate) context.log.info(`The gateway had already charged order ${order.orderId} (${chargeId}): no second charge`)
      context.table(Charges).put(order.orderId, { orderId: order.orderId, chargeId, billedAt: now() })
      await context.publish(OrderBilled, { orderId: order.orderId })
    },
    { name: 'chargeForOrder' },
  )
}
