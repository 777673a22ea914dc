/** The payment provider's answer when it is asked too often: transient, so the bus retries it. */
export class GatewayRateLimitedError extends Error {
  constructor(limitPerSecond: number) {
    super(`Payment gateway rate limit exceeded (${limitPerSecond} charges per second); try again later`)
    this.name = 'GatewayRateLimitedError'
  }
}

export interface PaymentGateway {
  charge(orderId: string): void
  readonly charged: number
}

/**
 * A simulated payment gateway that, like real ones, refuses more than `limitPerSecond` charges in any
 * one-second window. `limitPerSecond: undefined` turns the limit off (benchmarks).
 */
export function createPaymentGateway(options: { limitPerSecond: number | undefined; now?: () => number }): PaymentGateway {
  const now = options.now ?? Date.now
  const recent: number[] = []
  let charged = 0
  return {
    charge() {
      const limit = options.limitPerSecond
      if (limit !== undefined) {
        const at = now()
        while (recent.length > 0 && recent[0]! <= at - 1000) recent.shift()
        if (recent.length >= limit) throw new GatewayRateLimitedError(limit)
        recent.push(at)
      }
      charged++
    },
    get charged() {
      return charged
    },
  }
}
