import { Type } from '@sinclair/typebox'
import { describe, expect, it } from 'vitest'
import { createBus, defineCommand, defineModule, handle, InvalidModuleOptionError } from '../../src/bus/index.js'
import { createVirtualClock } from '../../src/bus/testing/index.js'
import { createFixtureModules, TakeOrder } from '../bus/support/shop-fixture.js'

const Charge = defineCommand('Charge', Type.Object({ n: Type.Integer() }))

describe('when a module is rate limited', () => {
  it('starts no more than maxPerSecond messages per second; the rest wait in its queue', async () => {
    const clock = createVirtualClock()
    const started: number[] = []
    const billing = defineModule({ name: 'billing', maxPerSecond: 10, concurrency: 8, handlers: [handle(Charge, async (m) => void started.push(m.n))] })
    const bus = createBus({ modules: [billing], routes: { Charge: 'billing' }, storage: 'memory', clock })
    await bus.start()
    await Promise.all(Array.from({ length: 30 }, (_, n) => bus.send(Charge, { n })))
    await new Promise((resolve) => setImmediate(resolve))
    expect(started).toHaveLength(1)
    for (let step = 1; step <= 10; step++) {
      clock.advance(100)
      await new Promise((resolve) => setImmediate(resolve))
      expect(started.length).toBeLessThanOrEqual(1 + step)
    }
    expect(started).toHaveLength(11)
    expect(bus.admin.module('billing')).toMatchObject({ queueLength: 19, maxPerSecond: 10 })
    // Time moves on in small steps, as it does for real, so handlers finish between the ticks.
    while (bus.admin.module('billing').queueLength > 0) {
      clock.advance(100)
      await new Promise((resolve) => setImmediate(resolve))
    }
    await bus.idle()
    expect(started).toEqual(Array.from({ length: 30 }, (_, n) => n))
    await bus.stop()
  })

  it('refuses a rate that is not positive', () => {
    expect(() => defineModule({ name: 'm', maxPerSecond: 0, handlers: [] })).toThrow(InvalidModuleOptionError)
  })
})

describe('when a fault is injected', () => {
  it('fails every delivery of the module, visibly, until switched off', async () => {
    const { modules, routes, log } = createFixtureModules({ recoverability: { immediateRetries: 1, delayedRetries: { count: 0 } } })
    const bus = createBus({ modules, routes, storage: 'memory' })
    await bus.start()
    bus.admin.setFault('payments', true)
    expect(bus.admin.module('payments').faultInjected).toBe(true)
    await bus.send(TakeOrder, { orderId: 'o-1', amount: 1 })
    await bus.idle()
    expect(log.charged).toEqual([])
    const [failed] = bus.admin.failedMessages()
    expect(failed).toMatchObject({ module: 'payments', type: 'ChargeCard' })
    expect(failed!.failures.map((f) => f.type)).toEqual(['InjectedFaultError', 'InjectedFaultError'])
    expect(bus.admin.logs('payments').map((line) => line.text)).toContain('Fault injected: every handler of this module now throws')

    bus.admin.setFault('payments', false)
    await bus.admin.retryAllFailed()
    await bus.idle()
    expect(log.charged).toEqual(['o-1'])
    expect(log.confirmed).toEqual(['o-1'])
    await bus.stop()
  })
})
