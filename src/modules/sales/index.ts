import { defineModule, type RecoverabilityOptions } from '../../bus/index.js'
import { OrderCancelled, OrderPlaced } from './messages.js'
import { Orders, type Order } from './orders.js'
import { buyersRemorseSaga } from './sagas/buyers-remorse-saga.js'

export interface SalesOptions {
  recoverability?: RecoverabilityOptions
  /** How long a client may cancel an order. @default 10 s */
  buyersRemorseMs?: number
}

/** Sales owns orders: it takes PlaceOrder, waits out the buyer's-remorse window, then publishes OrderPlaced. */
export function createSales(options: SalesOptions = {}) {
  const module = defineModule({
    name: 'sales',
    concurrency: 4,
    tables: [Orders],
    publishes: [OrderPlaced, OrderCancelled],
    sagas: [buyersRemorseSaga({ windowMs: options.buyersRemorseMs ?? 10_000 })],
    ...(options.recoverability ? { recoverability: options.recoverability } : {}),
  })
  return { module, Orders }
}

/** Sales' side of an order, as the console shows it. */
export function salesView(order: Order | undefined): Record<string, unknown> {
  if (!order) return { placed: false }
  return {
    placed: order.status === 'placed',
    cancelled: order.status === 'cancelled',
    inWindow: order.status === 'in-window',
    items: order.items,
    receivedAt: order.receivedAt,
    conversationId: order.conversationId,
    ...(order.windowEndsAt !== undefined ? { windowEndsAt: order.windowEndsAt } : {}),
  }
}
