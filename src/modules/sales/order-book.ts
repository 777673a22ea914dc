/** Sales' own data: the orders it accepted. In memory; see docs/workshop.md on what a restart keeps. */
export interface OrderBook {
  record(orderId: string, items: string[], at: number): void
  find(orderId: string): { items: string[]; placedAt: number } | undefined
}

export function createOrderBook(): OrderBook {
  const orders = new Map<string, { items: string[]; placedAt: number }>()
  return {
    record(orderId, items, at) {
      if (!orders.has(orderId)) orders.set(orderId, { items, placedAt: at })
    },
    find: (orderId) => orders.get(orderId),
  }
}
