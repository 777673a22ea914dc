import { handle, type HandlerContext } from '../../../bus/index.js'
import { OrderBilled } from '../../billing/messages.js'
import { OrderPlaced } from '../../sales/messages.js'
import { OrderShipped } from '../messages.js'
import type { Shipments } from '../shipments.js'

async function shipIfComplete(shipments: Shipments, orderId: string, completed: boolean, context: HandlerContext, now: () => number) {
  if (!completed) {
    context.log.info(`Order ${orderId} waits for ${shipments.find(orderId)?.placed ? 'billing' : 'its placement'}`)
    return
  }
  await context.publish(OrderShipped, { orderId })
  shipments.markShipped(orderId, now())
  context.log.info(`Shipping order ${orderId}`)
}

/** Packing may start when the order is placed; it leaves once billed too. */
export function notePlacedOrder(shipments: Shipments, now: () => number = Date.now) {
  return handle(
    OrderPlaced,
    async (order, context) => {
      context.log.info(`Received OrderPlaced, OrderId = ${order.orderId} - should we ship now?`)
      await shipIfComplete(shipments, order.orderId, shipments.note(order.orderId, 'placed'), context, now)
    },
    { name: 'notePlacedOrder' },
  )
}

/** Billing is done for the order; it leaves once placed too. */
export function noteBilledOrder(shipments: Shipments, now: () => number = Date.now) {
  return handle(
    OrderBilled,
    async (order, context) => {
      context.log.info(`Received OrderBilled, OrderId = ${order.orderId} - should we ship now?`)
      await shipIfComplete(shipments, order.orderId, shipments.note(order.orderId, 'billed'), context, now)
    },
    { name: 'noteBilledOrder' },
  )
}
