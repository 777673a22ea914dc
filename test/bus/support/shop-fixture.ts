import { Type } from '@sinclair/typebox'
import { defineCommand, defineEvent, defineModule, handle, type RecoverabilityOptions } from '../../../src/bus/index.js'

/** A small three-module system for bus tests: orders → payments (reply) → notifications. */
export const TakeOrder = defineCommand('TakeOrder', Type.Object({ orderId: Type.String(), amount: Type.Number({ minimum: 0 }) }))
export const OrderTaken = defineEvent('OrderTaken', Type.Object({ orderId: Type.String() }))
export const ChargeCard = defineCommand('ChargeCard', Type.Object({ orderId: Type.String(), amount: Type.Number() }))
export const CardCharged = defineCommand('CardCharged', Type.Object({ orderId: Type.String() }))
export const SendReminder = defineCommand('SendReminder', Type.Object({ orderId: Type.String() }))

export interface FixtureLog {
  taken: string[]
  charged: string[]
  confirmed: string[]
  notified: string[]
  reminded: string[]
  /** Headers of each TakeOrder as the orders handler saw them. */
  takenHeaders: Record<string, string>[]
  /** Headers of each OrderTaken as the notifications handler saw them. */
  notifiedHeaders: Record<string, string>[]
}

export function createFixtureLog(): FixtureLog {
  return { taken: [], charged: [], confirmed: [], notified: [], reminded: [], takenHeaders: [], notifiedHeaders: [] }
}

export interface FixtureOptions {
  log?: FixtureLog
  concurrency?: number
  recoverability?: RecoverabilityOptions
  /** Called before the orders handler does its work; throw to simulate a fault. */
  ordersFault?: (orderId: string) => void
  remindAfterMs?: number
}

export function createFixtureModules(options: FixtureOptions = {}) {
  const log = options.log ?? createFixtureLog()
  const recoverability = options.recoverability ?? { immediateRetries: 1, delayedRetries: { count: 1, baseDelayMs: 100 } }
  const orders = defineModule({
    name: 'orders',
    concurrency: options.concurrency ?? 4,
    recoverability,
    handlers: [
      handle(TakeOrder, async (order, context) => {
        options.ordersFault?.(order.orderId)
        log.taken.push(order.orderId)
        log.takenHeaders.push({ ...context.headers })
        context.log.info(`Received TakeOrder, OrderId = ${order.orderId}`)
        await context.publish(OrderTaken, { orderId: order.orderId })
        await context.send(ChargeCard, { orderId: order.orderId, amount: order.amount })
        if (options.remindAfterMs !== undefined) await context.defer(options.remindAfterMs, SendReminder, { orderId: order.orderId })
      }),
      handle(CardCharged, async (message) => {
        log.confirmed.push(message.orderId)
      }),
      handle(SendReminder, async (message) => {
        log.reminded.push(message.orderId)
      }),
    ],
  })
  const payments = defineModule({
    name: 'payments',
    concurrency: options.concurrency ?? 4,
    recoverability,
    handlers: [
      handle(ChargeCard, async (message, context) => {
        log.charged.push(message.orderId)
        await context.reply(CardCharged, { orderId: message.orderId })
      }),
    ],
  })
  const notifications = defineModule({
    name: 'notifications',
    concurrency: options.concurrency ?? 4,
    recoverability,
    handlers: [
      handle(OrderTaken, async (message, context) => {
        log.notified.push(message.orderId)
        log.notifiedHeaders.push({ ...context.headers })
      }),
    ],
  })
  return { log, modules: [orders, payments, notifications], routes: { TakeOrder: 'orders', ChargeCard: 'payments', SendReminder: 'orders' } }
}
