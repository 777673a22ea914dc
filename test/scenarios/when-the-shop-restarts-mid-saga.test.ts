import { describe, expect, it } from 'vitest'
import { createMemoryFileSystem } from '../../src/bus/index.js'
import { createVirtualClock } from '../../src/bus/testing/index.js'
import { PlaceOrder } from '../../src/modules/sales/messages.js'
import { createShop } from '../../src/shop.js'

const turns = async (count: number) => {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve))
}

describe('when the shop restarts while orders are in their window', () => {
  it('announces, bills and ships them after the restart, and shows them placed', async () => {
    const fileSystem = createMemoryFileSystem()
    const clock = createVirtualClock()
    const options = { storage: 'memory' as const, fileSystem, clock, buyersRemorseMs: 10_000, gatewayLimitPerSecond: undefined, billingMaxPerSecond: undefined }
    const first = createShop(options)
    await first.start()
    await first.bus.send(PlaceOrder, { orderId: 'o-1', items: ['lamp'] })
    await first.bus.idle()
    expect((await first.order('o-1'))?.sales).toMatchObject({ inWindow: true })
    await first.stop()

    // A new process: the journal has the saga, its timeout and Sales' order (module data).
    const second = createShop(options)
    await second.start()
    expect((await second.order('o-1'))?.sales).toMatchObject({ inWindow: true })
    expect(second.bus.admin.sagas('sales')).toEqual([{ saga: 'buyers-remorse', id: 'o-1', data: { orderId: 'o-1', items: ['lamp'] } }])
    clock.advance(10_000)
    await turns(5)
    await second.bus.idle()
    const view = (await second.order('o-1'))!
    expect(view.sales).toMatchObject({ placed: true, items: ['lamp'] })
    expect(view.billing).toMatchObject({ billed: true })
    expect(view.shipping).toMatchObject({ shipped: true })
    expect(second.bus.admin.sagas('sales')).toEqual([])
    await second.stop()
  })
})
