import { describe, expect, it } from 'vitest'
import { runCampaign } from '../../src/demos/rainy-day/campaign.js'
import { startSyncChain } from '../../src/demos/rainy-day/sync-chain.js'
import { startConsole } from '../web/support/console-app.js'

/**
 * The talk's first half, measured: the same campaign against the chain of synchronous calls and against
 * the messaging shop, both in front of a payment gateway that takes 100 charges a second. Only counts are
 * compared (what failed, what was charged twice, what shipped); the response times are reported, not
 * asserted (they belong to the comparison page and the bench).
 */
describe('when a campaign meets the synchronous chain, and the same campaign meets the messaging shop', () => {
  it('the chain fails requests and charges customers twice; messaging loses nothing and charges nobody twice', { timeout: 60_000 }, async () => {
    const orders = 200
    const chain = await startSyncChain({ gatewayLimitPerSecond: 100, callTimeoutMs: 200, retries: 3 })
    let sync
    try {
      sync = await runCampaign(`${chain.url}/sales/orders`, (n) => ({ orderId: `sync-${n}` }), { orders, concurrency: 50 })
      // The gateway finishes what it started after its callers gave up.
      await new Promise((resolve) => setTimeout(resolve, 500))
    } finally {
      await chain.close()
    }
    const chargedTwice = [...chain.charges.values()].filter((count) => count > 1).length

    const running = await startConsole({ listen: true, gatewayLimitPerSecond: 100, billingMaxPerSecond: 80, recoverability: { immediateRetries: 3, delayedRetries: { count: 3, baseDelayMs: 200 } } })
    let messaging
    try {
      messaging = await runCampaign(`${running.url}/api/orders`, () => ({}), { orders, concurrency: 50, headers: { origin: running.url } })
      await running.shop.bus.idle()
      const gateway = running.shop.gateway()!
      const listed = (await running.shop.orders({ limit: 200 }))!.items
      // 1. Messaging: every order accepted, every one shipped, each charged once.
      expect(messaging).toMatchObject({ accepted: orders, failed: 0 })
      expect(listed.filter((order) => order.shipped)).toHaveLength(orders)
      expect(gateway).toMatchObject({ charged: orders, chargedTwice: 0 })
    } finally {
      await running.close()
    }
    // 2. The chain: the rate limit and the slow gateway cascade back to the client, and blind retries charge twice.
    expect(sync.failed).toBeGreaterThan(0)
    expect(chain.shipped.size).toBeLessThan(orders)
    expect(chargedTwice).toBeGreaterThan(0)
    console.log(`rainy day, ${orders} orders, 50 clients: synchronous chain ${JSON.stringify({ ...sync, shipped: chain.shipped.size, chargedTwice })}; messaging ${JSON.stringify(messaging)}`)
  })

  it('while Shipping is stopped, the chain refuses every order (after charging it); messaging takes them all and ships them once Shipping starts', { timeout: 60_000 }, async () => {
    const orders = 50
    const chain = await startSyncChain({ gatewayLimitPerSecond: 1_000, gatewayBaseMs: 1, callTimeoutMs: 1_000 })
    chain.setStopped('shipping', true)
    let sync
    try {
      sync = await runCampaign(`${chain.url}/sales/orders`, (n) => ({ orderId: `stopped-${n}` }), { orders, concurrency: 10 })
    } finally {
      await chain.close()
    }
    // Every client was told its order failed, and every one of them was charged: temporal coupling.
    expect(sync).toMatchObject({ accepted: 0, failed: orders })
    expect(chain.charges.size).toBe(orders)
    expect(chain.shipped.size).toBe(0)

    const running = await startConsole({ listen: true, gatewayLimitPerSecond: undefined, billingMaxPerSecond: undefined })
    try {
      running.shop.bus.admin.stopModule('shipping')
      const messaging = await runCampaign(`${running.url}/api/orders`, () => ({}), { orders, concurrency: 10, headers: { origin: running.url } })
      expect(messaging).toMatchObject({ accepted: orders, failed: 0 })
      await running.shop.bus.idle()
      expect(running.shop.bus.admin.module('shipping').queueLength).toBe(2 * orders)
      running.shop.bus.admin.startModule('shipping')
      await running.shop.bus.idle()
      const listed = (await running.shop.orders({ limit: 200 }))!.items
      expect(listed.filter((order) => order.shipped)).toHaveLength(orders)
      expect(running.shop.gateway()).toMatchObject({ charged: orders, chargedTwice: 0 })
    } finally {
      await running.close()
    }
  })
})
