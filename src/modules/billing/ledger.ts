/** Billing's own data: which orders it charged. */
export interface BillingLedger {
  markBilled(orderId: string, at: number): void
  billedAt(orderId: string): number | undefined
}

export function createBillingLedger(): BillingLedger {
  const billed = new Map<string, number>()
  return {
    markBilled(orderId, at) {
      if (!billed.has(orderId)) billed.set(orderId, at)
    },
    billedAt: (orderId) => billed.get(orderId),
  }
}
