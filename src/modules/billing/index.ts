import { defineModule, type RecoverabilityOptions } from '../../bus/index.js'
import { Charges, type Charge } from './charges.js'
import { chargeForOrder } from './handlers/charge-for-order.js'
import { createPaymentGateway } from './payment-gateway.js'

export interface BillingOptions {
  /** The simulated gateway's limit. @default 50 */
  gatewayLimitPerSecond?: number | undefined
  /** Billing's own pace, kept under the gateway's limit: load levelling, not luck. @default 40 */
  maxPerSecond?: number | undefined
  recoverability?: RecoverabilityOptions
}

/** Billing charges placed orders through a rate-limited payment gateway and publishes OrderBilled. */
export function createBilling(options: BillingOptions = {}) {
  const gateway = createPaymentGateway({
    limitPerSecond: 'gatewayLimitPerSecond' in options ? options.gatewayLimitPerSecond : 50,
  })
  const maxPerSecond = 'maxPerSecond' in options ? options.maxPerSecond : 40
  const module = defineModule({
    name: 'billing',
    concurrency: 4,
    ...(maxPerSecond !== undefined ? { maxPerSecond } : {}),
    tables: [Charges],
    handlers: [chargeForOrder(gateway)],
    ...(options.recoverability ? { recoverability: options.recoverability } : {}),
  })
  return { module, gateway, Charges }
}

/** Billing's side of an order, as the console shows it. */
export function billingView(charge: Charge | undefined): Record<string, unknown> {
  return charge ? { billed: true, billedAt: charge.billedAt, chargeId: charge.chargeId } : { billed: false }
}
