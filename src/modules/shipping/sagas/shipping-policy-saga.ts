import { Type, type Static } from '@sinclair/typebox'
import { correlate, defineCommand, defineSaga, type SagaContext } from '../../../bus/index.js'
import { OrderBilled } from '../../billing/messages.js'
import { OrderPlaced } from '../../sales/messages.js'
import { OrderShipped, OrderShippingDelayed } from '../messages.js'
import { Shipments, updateShipment } from '../shipments.js'

/** Shipping's own reminder that billing is late; never sent by anyone else. */
export const BillingIsLate = defineCommand('BillingIsLate', Type.Object({ orderId: Type.String() }))

const PolicyData = Type.Object({ orderId: Type.String(), placed: Type.Boolean(), billed: Type.Boolean(), delayed: Type.Boolean() })

/**
 * Ships an order once it is both placed and billed, whichever event comes first (the saga pattern of
 * the talk's last step). Asks for a reminder when the order is placed: if billing has not arrived by
 * then, it tells the client the shipment is delayed, and keeps waiting.
 */
export function shippingPolicySaga(options: { billingWaitMs: number; now?: () => number }) {
  const now = options.now ?? Date.now
  return defineSaga({
    name: 'shipping-policy',
    data: PolicyData,
    create: (orderId) => ({ orderId, placed: false, billed: false, delayed: false }),
    correlation: [correlate(OrderPlaced, (order) => order.orderId), correlate(OrderBilled, (order) => order.orderId)],
    startedBy: [OrderPlaced, OrderBilled],
    handlers: (on) => [
      on(
        OrderPlaced,
        async (order, context) => {
          context.log.info(`Received OrderPlaced, OrderId = ${order.orderId} - should we ship now?`)
          context.data.placed = true
          await updateShipment(context.table(Shipments), order.orderId, { placed: true })
          if (!context.data.billed) await context.requestTimeout(options.billingWaitMs, BillingIsLate, { orderId: order.orderId })
          await shipIfReady(context)
        },
        { name: 'notePlacedOrder' },
      ),
      on(
        OrderBilled,
        async (order, context) => {
          context.log.info(`Received OrderBilled, OrderId = ${order.orderId} - should we ship now?`)
          context.data.billed = true
          await updateShipment(context.table(Shipments), order.orderId, { billed: true })
          await shipIfReady(context)
        },
        { name: 'noteBilledOrder' },
      ),
    ],
    timeouts: (on) => [
      on(
        BillingIsLate,
        async (timeout, context) => {
          if (context.data.billed) return
          context.log.warn(`Order ${timeout.orderId} is still not billed: telling the client its shipment is delayed`)
          context.data.delayed = true
          await updateShipment(context.table(Shipments), timeout.orderId, { delayed: true })
          await context.publish(OrderShippingDelayed, { orderId: timeout.orderId })
        },
        { name: 'reportLateBilling' },
      ),
    ],
  })

  async function shipIfReady(context: SagaContext<Static<typeof PolicyData>>) {
    const { orderId, placed, billed } = context.data
    if (!placed || !billed) {
      context.log.info(`Order ${orderId} waits for ${placed ? 'billing' : 'its placement'}`)
      return
    }
    await context.publish(OrderShipped, { orderId })
    await updateShipment(context.table(Shipments), orderId, { shippedAt: now() })
    context.log.info(`Shipping order ${orderId}`)
    context.markAsComplete()
  }
}
