import { describe, expect, it } from 'vitest'
import { createBus, defineModule, handle } from '../../../src/bus/index.js'
import { OrderBilled } from '../../../src/modules/billing/messages.js'
import { OrderPlaced } from '../../../src/modules/sales/messages.js'
import { createShipping } from '../../../src/modules/shipping/index.js'
import { OrderShipped } from '../../../src/modules/shipping/messages.js'

describe('the Shipping module', () => {
  it('ships each of 1,000 orders exactly once when OrderPlaced and OrderBilled arrive together at concurrency 16', async () => {
    const shipping = createShipping({ concurrency: 16, billingWaitMs: 3_600_000 })
    const shipped: string[] = []
    const client = defineModule({ name: 'client', handlers: [handle(OrderShipped, async (message) => void shipped.push(message.orderId))] })
    const bus = createBus({ modules: [shipping.module, client], storage: 'memory' })
    await bus.start()
    await Promise.all(
      Array.from({ length: 1_000 }, (_, n) => [bus.publish(OrderPlaced, { orderId: `o-${n}`, items: ['book'] }), bus.publish(OrderBilled, { orderId: `o-${n}` })]).flat(),
    )
    await bus.idle()
    expect(shipped).toHaveLength(1_000)
    expect(new Set(shipped).size).toBe(1_000)
    expect(bus.admin.sagas('shipping')).toEqual([])
    expect(bus.admin.module('shipping')).toMatchObject({ handled: 2_000, failed: 0, activeSagas: 0 })
    expect(await bus.table(shipping.Shipments).get('o-999')).toMatchObject({ placed: true, billed: true, shippedAt: expect.any(Number) })
    await bus.stop()
  })
})
