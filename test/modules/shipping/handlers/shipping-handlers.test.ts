import { describe, expect, it } from 'vitest'
import { createRecordingContext, invoke } from '../../../../src/bus/testing/index.js'
import { prepareShipment } from '../../../../src/modules/shipping/handlers/prepare-shipment.js'
import { shipBilledOrder } from '../../../../src/modules/shipping/handlers/ship-billed-order.js'

describe('prepareShipment', () => {
  it('logs the placed order and sends nothing yet', async () => {
    const context = createRecordingContext()
    await invoke(prepareShipment, { orderId: 'o-1', items: ['book'] }, context)
    expect(context.logs).toEqual([{ level: 'info', text: 'Received OrderPlaced, OrderId = o-1 - should we ship now?' }])
    expect([...context.sent, ...context.published]).toEqual([])
  })
})

describe('shipBilledOrder', () => {
  it('logs the billed order and sends nothing yet', async () => {
    const context = createRecordingContext()
    await invoke(shipBilledOrder, { orderId: 'o-1' }, context)
    expect(context.logs).toEqual([{ level: 'info', text: 'Received OrderBilled, OrderId = o-1 - should we ship now?' }])
    expect([...context.sent, ...context.published]).toEqual([])
  })
})
