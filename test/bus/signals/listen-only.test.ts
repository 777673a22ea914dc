import { describe, expect, it } from 'vitest'
import { createBus } from '../../../src/bus/index.js'
import { createFixtureModules, TakeOrder } from '../support/shop-fixture.js'

describe("a bus's signals, as its users get them", () => {
  it('can be listened to and left, and offer no way to emit or to clear the listeners', async () => {
    const { modules, routes } = createFixtureModules()
    const bus = createBus({ modules, routes, storage: 'memory' })
    const handled: string[] = []
    const listener = (signal: { type: string }) => handled.push(signal.type)
    bus.signals.on('message:handled', listener)
    await bus.start()
    await bus.send(TakeOrder, { orderId: 'o-1', amount: 1 })
    await bus.idle()
    expect(handled.length).toBeGreaterThan(0)
    bus.signals.off('message:handled', listener)
    const before = handled.length
    await bus.send(TakeOrder, { orderId: 'o-2', amount: 1 })
    await bus.idle()
    expect(handled).toHaveLength(before)
    expect(Object.keys(bus.signals).sort()).toEqual(['off', 'on'])
    expect(Object.isFrozen(bus.signals)).toBe(true)
    await bus.stop()
  })
})
