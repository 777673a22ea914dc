/** The orders placed from this console, newest first, so the page can list them with their conversation. */
export interface PlacedOrder {
  orderId: string
  conversationId: string
  at: number
}

export interface RecentOrders {
  add(order: PlacedOrder): void
  list(limit?: number): PlacedOrder[]
}

export function createRecentOrders(max = 200): RecentOrders {
  const orders: PlacedOrder[] = []
  return {
    add(order) {
      orders.unshift(order)
      if (orders.length > max) orders.length = max
    },
    list: (limit = max) => orders.slice(0, limit),
  }
}
