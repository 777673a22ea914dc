/**
 * Shipping's own data: what it heard about each order. It ships once both OrderPlaced and OrderBilled
 * arrived, in whichever order (the saga issue turns this into a durable saga).
 */
export interface ShipmentState {
  placed: boolean
  billed: boolean
  shippedAt?: number
}

export interface Shipments {
  /** Notes an event; true when this one completed the pair, so the caller ships. */
  note(orderId: string, what: 'placed' | 'billed'): boolean
  markShipped(orderId: string, at: number): void
  find(orderId: string): ShipmentState | undefined
}

export function createShipments(): Shipments {
  const shipments = new Map<string, ShipmentState>()
  return {
    note(orderId, what) {
      const state = shipments.get(orderId) ?? { placed: false, billed: false }
      shipments.set(orderId, state)
      if (state[what]) return false
      state[what] = true
      return state.placed && state.billed
    },
    markShipped(orderId, at) {
      const state = shipments.get(orderId)
      if (state && state.shippedAt === undefined) state.shippedAt = at
    },
    find: (orderId) => shipments.get(orderId),
  }
}
