/**
 * Shipping's view of its orders for the console: what it heard, whether it told the client about a
 * delay, when it shipped. In memory, a projection of what the saga did; the saga's data is durable.
 */
export interface ShipmentState {
  placed: boolean
  billed: boolean
  delayed: boolean
  shippedAt?: number
}

export interface Shipments {
  note(orderId: string, what: 'placed' | 'billed'): void
  markDelayed(orderId: string): void
  markShipped(orderId: string, at: number): void
  find(orderId: string): ShipmentState | undefined
}

export function createShipments(): Shipments {
  const shipments = new Map<string, ShipmentState>()
  const stateOf = (orderId: string) => {
    let state = shipments.get(orderId)
    if (!state) shipments.set(orderId, (state = { placed: false, billed: false, delayed: false }))
    return state
  }
  return {
    note(orderId, what) {
      stateOf(orderId)[what] = true
    },
    markDelayed(orderId) {
      stateOf(orderId).delayed = true
    },
    markShipped(orderId, at) {
      const state = stateOf(orderId)
      if (state.shippedAt === undefined) state.shippedAt = at
    },
    find: (orderId) => shipments.get(orderId),
  }
}
