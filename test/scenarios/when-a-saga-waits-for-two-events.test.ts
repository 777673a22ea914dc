import { describe, expect, it } from 'vitest'
import { createBus, createMemoryFileSystem } from '../../src/bus/index.js'
import { createVirtualClock } from '../../src/bus/testing/index.js'
import { createSagaModules, OrderBilled, OrderPlaced } from '../bus/support/saga-fixture.js'

const turns = async (count: number) => {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve))
}

describe('when a saga waits for two events', () => {
  it.each([
    ['placed, then billed', [OrderPlaced, OrderBilled]],
    ['billed, then placed', [OrderBilled, OrderPlaced]],
  ] as const)('ships once whatever the order (%s), and completes', async (_name, order) => {
    const { modules, log } = createSagaModules()
    const bus = createBus({ modules, storage: 'memory' })
    await bus.start()
    await bus.publish(order[0], { orderId: 'o-1' })
    await bus.idle()
    expect(bus.admin.sagas('shipping')).toEqual([{ saga: 'shipping-policy', id: 'o-1', data: expect.objectContaining({ orderId: 'o-1' }) }])
    expect(log.shipped).toEqual([])
    await bus.publish(order[1], { orderId: 'o-1' })
    await bus.idle()
    expect(log.shipped).toEqual(['o-1'])
    expect(bus.admin.sagas('shipping')).toEqual([])
    await bus.stop()
  })

  it('discards a message for an instance that does not exist when it is not a starting message', async () => {
    const { modules, log } = createSagaModules({ placedStarts: false })
    const bus = createBus({ modules, storage: 'memory' })
    await bus.start()
    await bus.publish(OrderPlaced, { orderId: 'o-2' })
    await bus.idle()
    expect(bus.admin.sagas('shipping')).toEqual([])
    expect(bus.admin.module('shipping')).toMatchObject({ handled: 1, failed: 0 })
    expect(bus.admin.logs('shipping').map((line) => line.text)).toContain('No shipping-policy saga for OrderPlaced o-2: the message is discarded')
    expect(log.shipped).toEqual([])
    await bus.stop()
  })

  it('fires a timeout while the instance is active, and drops it once the instance has completed', async () => {
    const clock = createVirtualClock()
    const { modules, log } = createSagaModules({ overdueMs: 1_000 })
    const bus = createBus({ modules, storage: 'memory', clock })
    await bus.start()
    await bus.publish(OrderPlaced, { orderId: 'late' })
    await bus.publish(OrderPlaced, { orderId: 'quick' })
    await bus.idle()
    await bus.publish(OrderBilled, { orderId: 'quick' })
    await bus.idle()
    expect(log.shipped).toEqual(['quick'])
    clock.advance(1_000)
    await turns(5)
    await bus.idle()
    expect(log.delayed).toEqual(['late'])
    expect(bus.admin.sagas('shipping')).toEqual([{ saga: 'shipping-policy', id: 'late', data: { orderId: 'late', placed: true, billed: false, reminders: 1 } }])
    expect(bus.admin.logs('shipping').map((line) => line.text)).toContain('Dropped timeout BillingOverdue of saga shipping-policy quick: that instance has completed')
    await bus.stop()
  })

  it('keeps active instances and pending timeouts across a restart', async () => {
    const clock = createVirtualClock()
    const fileSystem = createMemoryFileSystem()
    const first = createSagaModules({ overdueMs: 5_000 })
    const bus = createBus({ modules: first.modules, storage: 'memory', fileSystem, clock })
    await bus.start()
    await bus.publish(OrderPlaced, { orderId: 'o-3' })
    await bus.idle()
    await bus.stop()

    const second = createSagaModules({ overdueMs: 5_000 })
    const again = createBus({ modules: second.modules, storage: 'memory', fileSystem, clock })
    await again.start()
    expect(again.admin.sagas('shipping')).toEqual([{ saga: 'shipping-policy', id: 'o-3', data: { orderId: 'o-3', placed: true, billed: false, reminders: 0 } }])
    clock.advance(5_000)
    await turns(5)
    await again.idle()
    expect(second.log.delayed).toEqual(['o-3'])
    await again.publish(OrderBilled, { orderId: 'o-3' })
    await again.idle()
    expect(second.log.shipped).toEqual(['o-3'])
    expect(again.admin.sagas('shipping')).toEqual([])
    await again.stop()
  })

  it('handles messages for one instance one at a time: 1,000 orders, both events at once, concurrency 16', async () => {
    const { modules, log } = createSagaModules({ concurrency: 16, overdueMs: 60_000 })
    const bus = createBus({ modules, storage: 'memory', journal: { maxSegmentBytes: 64 * 1024 } })
    await bus.start()
    await Promise.all(Array.from({ length: 1_000 }, (_, n) => [bus.publish(OrderPlaced, { orderId: `o-${n}` }), bus.publish(OrderBilled, { orderId: `o-${n}` })]).flat())
    await bus.idle()
    expect(log.shipped).toHaveLength(1_000)
    expect(new Set(log.shipped).size).toBe(1_000)
    expect(bus.admin.sagas('shipping')).toEqual([])
    await bus.stop()
  })
})

describe('when a saga handler goes wrong', () => {
  it('sends a message whose handler leaves invalid data to the error queue, and keeps the data as it was', async () => {
    const { Type } = await import('@sinclair/typebox')
    const { correlate, defineEvent, defineModule, defineSaga } = await import('../../src/bus/index.js')
    const Counted = defineEvent('Counted', Type.Object({ key: Type.String(), by: Type.Integer() }))
    const counter = defineSaga({
      name: 'counter',
      data: Type.Object({ total: Type.Integer({ maximum: 10 }) }),
      create: () => ({ total: 0 }),
      correlation: [correlate(Counted, (message) => message.key)],
      startedBy: [Counted],
      handlers: (on) => [on(Counted, (message, context) => void (context.data.total += message.by))],
    })
    const bus = createBus({ modules: [defineModule({ name: 'tally', sagas: [counter] })], storage: 'memory' })
    await bus.start()
    await bus.publish(Counted, { key: 'k', by: 4 })
    await bus.publish(Counted, { key: 'k', by: 20 })
    await bus.idle()
    expect(bus.admin.sagas('tally')).toEqual([{ saga: 'counter', id: 'k', data: { total: 4 } }])
    const [failed] = bus.admin.failedMessages()
    expect(failed?.failures).toHaveLength(1)
    expect(failed?.failures[0]).toMatchObject({ type: 'SagaDataInvalidError', handler: 'counter: handleCounted' })
    expect(failed?.failures[0]?.message).toContain('/total')
    await bus.stop()
  })

  it('sends a message without a usable correlation id to the error queue at once', async () => {
    const { Type } = await import('@sinclair/typebox')
    const { correlate, defineEvent, defineModule, defineSaga } = await import('../../src/bus/index.js')
    const Noted = defineEvent('Noted', Type.Object({ key: Type.String() }))
    const saga = defineSaga({
      name: 'notes',
      data: Type.Object({}),
      create: () => ({}),
      correlation: [correlate(Noted, (message) => message.key)],
      startedBy: [Noted],
      handlers: (on) => [on(Noted, () => {})],
    })
    const bus = createBus({ modules: [defineModule({ name: 'notes', sagas: [saga] })], storage: 'memory' })
    await bus.start()
    await bus.publish(Noted, { key: '' })
    await bus.idle()
    expect(bus.admin.failedMessages()[0]?.failures[0]).toMatchObject({ type: 'SagaCorrelationError', handler: '(validation)' })
    await bus.stop()
  })
})

describe('when saga records are compacted', () => {
  it('carries active instances forward, never brings a completed one back, and stays bounded', async () => {
    const fileSystem = createMemoryFileSystem()
    const clock = createVirtualClock()
    // Pending timeouts keep their records until they are due (a completed instance's too, then dropped).
    const first = createSagaModules({ overdueMs: 1_000 })
    const bus = createBus({ modules: first.modules, storage: 'memory', fileSystem, clock, journal: { maxSegmentBytes: 4096 } })
    await bus.start()
    for (let round = 0; round < 20; round++) {
      // Each round starts 50 instances and completes the 50 of the round before.
      await Promise.all(Array.from({ length: 50 }, (_, i) => bus.publish(OrderPlaced, { orderId: `o-${round}-${i}` })))
      if (round > 0) await Promise.all(Array.from({ length: 50 }, (_, i) => bus.publish(OrderBilled, { orderId: `o-${round - 1}-${i}` })))
      await bus.idle()
      clock.advance(1_000)
      await turns(5)
      await bus.idle()
      await bus.compact()
    }
    expect(first.log.shipped).toHaveLength(950)
    const active = bus.admin.sagas('shipping').map((instance) => instance.id)
    expect(active).toHaveLength(50)
    // 1,000 instances and their timeouts went through; what is left is about 50 instances' worth.
    expect(bus.admin.journalBytes()).toBeLessThan(200 * 1024)
    await bus.stop()

    const second = createSagaModules({ overdueMs: 1_000 })
    const again = createBus({ modules: second.modules, storage: 'memory', fileSystem, clock, journal: { maxSegmentBytes: 4096 } })
    await again.start()
    expect(again.admin.sagas('shipping').map((instance) => instance.id)).toEqual(active)
    await again.publish(OrderBilled, { orderId: 'o-0-0' })
    await again.idle()
    // o-0-0 completed long ago: billed again, it starts a new instance instead of shipping twice.
    expect(second.log.shipped).toEqual([])
    await again.stop()
  })
})
