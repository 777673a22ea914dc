import { describe, expect, it } from 'vitest'
import { createRecordingContext, invoke } from '../../../../src/bus/testing/index.js'
import { noteBilledOrder, notePlacedOrder } from '../../../../src/modules/shipping/handlers/ship-when-ready.js'
import { createShipments } from '../../../../src/modules/shipping/shipments.js'

describe('shipping an order once it is placed and billed', () => {
  it.each([
    ['placed first', 'placed', 'billed'],
    ['billed first', 'billed', 'placed'],
  ] as const)('ships exactly once when %s', async (_, first, second) => {
    const shipments = createShipments()
    const handlers = { placed: notePlacedOrder(shipments, () => 5), billed: noteBilledOrder(shipments, () => 5) }
    const bodies = { placed: { orderId: 'o-1', items: ['book'] }, billed: { orderId: 'o-1' } }
    const one = createRecordingContext()
    await invoke(handlers[first] as never, bodies[first] as never, one)
    expect(one.published).toEqual([])
    const two = createRecordingContext()
    await invoke(handlers[second] as never, bodies[second] as never, two)
    expect(two.published).toEqual([{ type: 'OrderShipped', body: { orderId: 'o-1' } }])
    expect(shipments.find('o-1')).toEqual({ placed: true, billed: true, shippedAt: 5 })
    // The same event again (say, a duplicate from another source) ships nothing more.
    const three = createRecordingContext()
    await invoke(handlers[second] as never, bodies[second] as never, three)
    expect(three.published).toEqual([])
  })

  it('logs what it waits for', async () => {
    const context = createRecordingContext()
    await invoke(notePlacedOrder(createShipments()), { orderId: 'o-2', items: ['pen'] }, context)
    expect(context.logs.map((line) => line.text)).toEqual(['Received OrderPlaced, OrderId = o-2 - should we ship now?', 'Order o-2 waits for billing'])
  })
})
