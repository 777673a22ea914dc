import { createBus, type Bus, type BusOptions, type RecoverabilityOptions } from './bus/index.js'
import { createBilling } from './modules/billing/index.js'
import { createSales } from './modules/sales/index.js'
import { createShipping } from './modules/shipping/index.js'
import type { OrderView } from './web/context.js'

export interface ShopOptions extends Omit<BusOptions, 'modules' | 'routes'> {
  recoverability?: RecoverabilityOptions
  /** The simulated payment gateway's limit; undefined turns it off. @default 50 */
  gatewayLimitPerSecond?: number | undefined
  /** Billing's pace; undefined turns the limit off. @default 40 */
  billingMaxPerSecond?: number | undefined
  /** How long a client may cancel an order before Sales announces it. @default 10 s */
  buyersRemorseMs?: number
  /** How long Shipping waits for billing before it reports a delay. @default 30 s */
  billingWaitMs?: number
}

export type { OrderView }

export interface Shop {
  bus: Bus
  /** The order as each module knows it. */
  order(orderId: string): OrderView
}

/** The shop's modules, the central routes table and the bus: what `npm start` and the tests run. */
export function createShop(options: ShopOptions = {}): Shop {
  const { recoverability, gatewayLimitPerSecond, billingMaxPerSecond, buyersRemorseMs, billingWaitMs, ...busOptions } = options
  const shared = recoverability ? { recoverability } : {}
  const sales = createSales({ ...shared, ...(buyersRemorseMs !== undefined ? { buyersRemorseMs } : {}) })
  const billing = createBilling({
    ...shared,
    ...('gatewayLimitPerSecond' in options ? { gatewayLimitPerSecond } : {}),
    ...('billingMaxPerSecond' in options ? { maxPerSecond: billingMaxPerSecond } : {}),
  })
  const shipping = createShipping({ ...shared, ...(billingWaitMs !== undefined ? { billingWaitMs } : {}) })
  const views = { sales: sales.orderState, billing: billing.orderState, shipping: shipping.orderState }
  const bus = createBus({ ...busOptions, modules: [sales.module, billing.module, shipping.module], routes: { PlaceOrder: 'sales', CancelOrder: 'sales' }, views })
  // A module in another process (with a broker) reports its view of the orders the console shows.
  const viewOf = (module: keyof typeof views, orderId: string): Record<string, unknown> =>
    bus.moduleNames.includes(module) ? views[module](orderId) : ((bus.admin.view(module, orderId) as Record<string, unknown> | undefined) ?? {})
  return {
    bus,
    order: (orderId) => ({ orderId, sales: viewOf('sales', orderId), billing: viewOf('billing', orderId), shipping: viewOf('shipping', orderId) }),
  }
}
