import { Type } from '@sinclair/typebox'
import { correlate, defineCommand, defineEvent, defineModule, defineSaga, handle } from '../../../src/bus/index.js'

export const OrderPlaced = defineEvent('OrderPlaced', Type.Object({ orderId: Type.String() }))
export const OrderBilled = defineEvent('OrderBilled', Type.Object({ orderId: Type.String() }))
export const OrderShipped = defineEvent('OrderShipped', Type.Object({ orderId: Type.String() }))
export const ShippingDelayed = defineEvent('ShippingDelayed', Type.Object({ orderId: Type.String() }))
export const BillingOverdue = defineCommand('BillingOverdue', Type.Object({ orderId: Type.String() }))

export const PolicyData = Type.Object({ orderId: Type.String(), placed: Type.Boolean(), billed: Type.Boolean(), reminders: Type.Integer({ minimum: 0 }) })

/** Ships an order once it is both placed and billed, in whichever order they come; waits 1 s for billing. */
export function createShippingPolicy(options: { overdueMs?: number; placedStarts?: boolean } = {}) {
  const overdueMs = options.overdueMs ?? 1_000
  return defineSaga({
    name: 'shipping-policy',
    data: PolicyData,
    create: (orderId) => ({ orderId, placed: false, billed: false, reminders: 0 }),
    correlation: [correlate(OrderPlaced, (message) => message.orderId), correlate(OrderBilled, (message) => message.orderId)],
    startedBy: options.placedStarts === false ? [OrderBilled] : [OrderPlaced, OrderBilled],
    handlers: (on) => [
      on(OrderPlaced, async (message, context) => {
        context.data.placed = true
        if (!context.data.billed) await context.requestTimeout(overdueMs, BillingOverdue, { orderId: message.orderId })
        if (context.data.billed) {
          await context.publish(OrderShipped, { orderId: message.orderId })
          context.markAsComplete()
        }
      }),
      on(OrderBilled, async (message, context) => {
        context.data.billed = true
        if (context.data.placed) {
          await context.publish(OrderShipped, { orderId: message.orderId })
          context.markAsComplete()
        }
      }),
    ],
    timeouts: (on) => [
      on(BillingOverdue, async (timeout, context) => {
        context.data.reminders++
        await context.publish(ShippingDelayed, { orderId: timeout.orderId })
      }),
    ],
  })
}

/** Shipping runs the saga; a listener records what came out of it. */
export function createSagaModules(options: { concurrency?: number; overdueMs?: number; placedStarts?: boolean } = {}) {
  const log = { shipped: [] as string[], delayed: [] as string[] }
  const shipping = defineModule({ name: 'shipping', sagas: [createShippingPolicy(options)], concurrency: options.concurrency ?? 4 })
  const listener = defineModule({
    name: 'listener',
    handlers: [handle(OrderShipped, async (message) => void log.shipped.push(message.orderId)), handle(ShippingDelayed, async (message) => void log.delayed.push(message.orderId))],
  })
  return { modules: [shipping, listener], log }
}
