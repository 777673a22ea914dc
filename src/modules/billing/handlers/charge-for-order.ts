import { handle } from '../../../bus/index.js'
import { OrderPlaced } from '../../sales/messages.js'
import type { BillingLedger } from '../ledger.js'
import { OrderBilled } from '../messages.js'
import type { PaymentGateway } from '../payment-gateway.js'

/** Charges the card for a placed order and tells whoever cares. */
export function chargeForOrder(gateway: PaymentGateway, ledger: BillingLedger, now: () => number = Date.now) {
  return handle(
    OrderPlaced,
    async (order, context) => {
      context.log.info(`Received OrderPlaced, OrderId = ${order.orderId} - charging credit card`)
      gateway.charge(order.orderId)
      ledger.markBilled(order.orderId, now())
      await context.publish(OrderBilled, { orderId: order.orderId })
    },
    { name: 'chargeForOrder' },
  )
}
