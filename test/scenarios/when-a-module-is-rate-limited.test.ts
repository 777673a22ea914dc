import { Type } from '@sinclair/typebox'
import { describe, expect, it } from 'vitest'
import { createBus, defineCommand, defineModule, faultInjection, FaultInjectionNotInstalledError, handle, InvalidModuleOptionError } from '../../src/bus/index.js'
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
    const bus = createBus({ modules, routes, storage: 'memory', behaviors: [faultInjection()] })
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

  it('fails that share of the attempts with a fault rate', async () => {
    const { modules, routes } = createFixtureModules({ recoverability: { immediateRetries: 0, delayedRetries: { count: 0 } } })
    let draws = 0
    // Every other draw falls under the rate.
    const bus = createBus({ modules, routes, storage: 'memory', behaviors: [faultInjection({ random: () => (draws++ % 2 === 0 ? 0.1 : 0.9) })] })
    await bus.start()
    bus.admin.setFaultRate('payments', 0.5)
    expect(bus.admin.module('payments')).toMatchObject({ faultInjected: false, faultRate: 0.5 })
    for (let n = 0; n < 4; n++) await bus.send(TakeOrder, { orderId: `o-${n}`, amount: 1 })
    await bus.idle()
    expect(bus.admin.failedMessages().filter((failed) => failed.module === 'payments')).toHaveLength(2)
    await bus.stop()
  })

  it('refuses it as a behavior of one module: the admin API switches it on at the bus', () => {
    expect(() => defineModule({ name: 'm', behaviors: [faultInjection()] })).toThrow('faultInjection() belongs to the bus: createBus({ behaviors: [faultInjection()] })')
  })

  it('says how to install it when the bus was created without it, and has no fault check on its path', async () => {
    const { modules, routes, log } = createFixtureModules()
    const bus = createBus({ modules, routes, storage: 'memory' })
    await bus.start()
    expect(() => bus.admin.setFault('payments', true)).toThrow(FaultInjectionNotInstalledError)
    expect(() => bus.admin.setFault('payments', true)).toThrow('createBus({ behaviors: [faultInjection()] })')
    expect(bus.admin.module('payments')).toMatchObject({ faultInjected: false, faultRate: 0 })
    await bus.send(TakeOrder, { orderId: 'o-1', amount: 1 })
    await bus.idle()
    expect(log.charged).toEqual(['o-1'])
    await bus.stop()
  })
})
