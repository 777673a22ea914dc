import { describe, expect, it } from 'vitest'
import { PlaceOrder } from '../../src/modules/sales/messages.js'
import { createShop } from '../../src/shop.js'

async function campaign(billingMaxPerSecond: number | undefined) {
  const shop = createShop({
    storage: 'memory',
    gatewayLimitPerSecond: 250,
    billingMaxPerSecond,
    buyersRemorseMs: 0,
    recoverability: { immediateRetries: 0, delayedRetries: { count: 0 } },
  })
  await shop.start()
  await Promise.all(Array.from({ length: 600 }, (_, i) => shop.bus.send(PlaceOrder, { orderId: `c-${i}`, items: ['x'] })))
  while (shop.bus.admin.module('billing').queueLength + shop.bus.admin.module('billing').inFlight + shop.bus.admin.module('sales').queueLength > 0) await shop.bus.idle()
  const billing = shop.bus.admin.module('billing')
  await shop.stop()
  return billing
}

describe('when a campaign hits the payment gateway', () => {
  it('overloads the gateway when Billing runs as fast as it can', async () => {
    const billing = await campaign(undefined)
    expect(billing.errorQueueLength).toBeGreaterThan(0)
  })

  it('stays under the gateway limit when Billing is load levelled', { timeout: 20_000 }, async () => {
    const billing = await campaign(200)
    expect(billing).toMatchObject({ handled: 600, errorQueueLength: 0, retries: 0 })
  })
})
