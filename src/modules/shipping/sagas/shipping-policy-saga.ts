import { Type, type Static } from '@sinclair/typebox'
import { correlate, defineCommand, defineSaga, type SagaContext } from '../../../bus/index.js'
import { OrderBilled } from '../../billing/messages.js'
import { OrderPlaced } from '../../sales/messages.js'
import { OrderShipped, OrderShippingDelayed } from '../messages.js'
import { recordShipment } from '../shipments.js'

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
          const first = !context.data.billed
          context.data.placed = true
          if (!context.data.billed) await context.requestTimeout(options.billingWaitMs, BillingIsLate, { orderId: order.orderId })
          await shipIfReady(context, first)
        },
        { name: 'notePlacedOrder' },
      ),
      on(
        OrderBilled,
        async (order, context) => {
          context.log.info(`Received OrderBilled, OrderId = ${order.orderId} - should we ship now?`)
          const first = !context.data.placed
          context.data.billed = true
          await shipIfReady(context, first)
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
          await recordShipment(context)
          await context.publish(OrderShippingDelayed, { orderId: timeout.orderId })
        },
        { name: 'reportLateBilling' },
      ),
    ],
  })

  /** `first`: the instance's first message (a shipment of the order may exist from an instance long completed). */
  async function shipIfReady(context: SagaContext<Static<typeof PolicyData>>, first: boolean) {
    const { orderId, placed, billed } = context.data
    if (!placed || !billed) {
      context.log.info(`Order ${orderId} waits for ${placed ? 'billing' : 'its placement'}`)
      await recordShipment(context, { first })
      return
    }
    await context.publish(OrderShipped, { orderId })
    await recordShipment(context, { first, shippedAt: now() })
    context.log.info(`Shipping order ${orderId}`)
    context.markAsComplete()
  }
}
