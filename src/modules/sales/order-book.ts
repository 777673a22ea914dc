/**
 * Sales' view of its orders for the console: in their buyer's-remorse window, placed, or cancelled.
 * In memory, a projection of what the saga did; the saga's own data is durable in the journal.
 */
export type OrderStatus = 'in-window' | 'placed' | 'cancelled'

export interface BookedOrder {
  items: string[]
  status: OrderStatus
  receivedAt: number
  /** When the window closes (for orders in it). */
  windowEndsAt?: number
}

export interface OrderBook {
  receive(orderId: string, items: string[], at: number, windowEndsAt: number): void
  /**
   * Moves the order on; a later status never goes back (a retried handler may repeat a step). An order
   * this book never saw (it was received before a restart; the saga remembered it) is added.
   */
  settle(orderId: string, status: 'placed' | 'cancelled', items: string[], at: number): void
  find(orderId: string): BookedOrder | undefined
}

export function createOrderBook(): OrderBook {
  const orders = new Map<string, BookedOrder>()
  return {
    receive(orderId, items, at, windowEndsAt) {
      if (!orders.has(orderId)) orders.set(orderId, { items, status: 'in-window', receivedAt: at, windowEndsAt })
    },
    settle(orderId, status, items, at) {
      const order = orders.get(orderId)
      if (!order) {
        orders.set(orderId, { items, status, receivedAt: at })
        return
      }
      if (order.status === 'in-window') {
        order.status = status
        delete order.windowEndsAt
      }
    },
    find: (orderId) => orders.get(orderId),
  }
}
