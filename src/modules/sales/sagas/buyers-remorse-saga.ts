import { Type } from '@sinclair/typebox'
import { correlate, defineCommand, defineSaga, MessageHeaders } from '../../../bus/index.js'
import { CancelOrder, OrderCancelled, OrderPlaced, PlaceOrder } from '../messages.js'
import { Orders, settleOrder } from '../orders.js'

/** The window closed: Sales' own timeout, never sent by anyone else. */
export const BuyersRemorseIsOver = defineCommand('BuyersRemorseIsOver', Type.Object({ orderId: Type.String() }))

const RemorseData = Type.Object({ orderId: Type.String(), items: Type.Array(Type.String()) })

/**
 * Buyer's remorse: an order is announced only once its window has passed, so a client may still cancel
 * it and nobody downstream ever hears of it (the NServiceBus tutorial's saga).
 */
export function buyersRemorseSaga(options: { windowMs: number; now?: () => number }) {
  const now = options.now ?? Date.now
  return defineSaga({
    name: 'buyers-remorse',
    data: RemorseData,
    create: (orderId) => ({ orderId, items: [] }),
    correlation: [correlate(PlaceOrder, (order) => order.orderId), correlate(CancelOrder, (order) => order.orderId)],
    startedBy: [PlaceOrder],
    handlers: (on) => [
      on(
        PlaceOrder,
        async (order, context) => {
          const orders = context.table(Orders)
          const received = { orderId: order.orderId, items: order.items, receivedAt: now(), conversationId: context.headers[MessageHeaders.ConversationId] ?? context.messageId }
          if (options.windowMs === 0) {
            // No window: announce at once, and the instance ends before it was ever stored.
            context.log.info(`Received PlaceOrder, OrderId = ${order.orderId}`)
            await context.publish(OrderPlaced, { orderId: order.orderId, items: order.items })
            orders.put(order.orderId, { ...received, status: 'placed' })
            context.markAsComplete()
            return
          }
          orders.put(order.orderId, { ...received, status: 'in-window', windowEndsAt: received.receivedAt + options.windowMs })
          context.log.info(`Received PlaceOrder, OrderId = ${order.orderId}; it may be cancelled for ${options.windowMs / 1000} s`)
          context.data.items = order.items
          await context.requestTimeout(options.windowMs, BuyersRemorseIsOver, { orderId: order.orderId })
        },
        { name: 'startRemorseWindow' },
      ),
      on(
        CancelOrder,
        async (order, context) => {
          context.log.info(`Cancelled order ${order.orderId} inside its window`)
          await context.publish(OrderCancelled, { orderId: order.orderId })
          await settleOrder(context.table(Orders), { orderId: order.orderId, items: context.data.items, receivedAt: now(), conversationId: context.headers[MessageHeaders.ConversationId] ?? context.messageId }, 'cancelled')
          context.markAsComplete()
        },
        { name: 'cancelOrder' },
      ),
    ],
    timeouts: (on) => [
      on(
        BuyersRemorseIsOver,
        async (timeout, context) => {
          context.log.info(`Order ${timeout.orderId} is past its window: publishing OrderPlaced`)
          await context.publish(OrderPlaced, { orderId: timeout.orderId, items: context.data.items })
          await settleOrder(context.table(Orders), { orderId: timeout.orderId, items: context.data.items, receivedAt: now(), conversationId: context.headers[MessageHeaders.ConversationId] ?? context.messageId }, 'placed')
          context.markAsComplete()
        },
        { name: 'placeOrderForGood' },
      ),
    ],
    notFound: (message, context) => {
      context.log.info(`Order ${context.correlationId} can no longer be cancelled: its window has passed (or it never existed)`)
    },
  })
}
