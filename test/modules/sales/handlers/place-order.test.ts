import { describe, expect, it } from 'vitest'
import { InvalidMessageError } from '../../../../src/bus/index.js'
import { createRecordingContext, invoke } from '../../../../src/bus/testing/index.js'
import { placeOrder } from '../../../../src/modules/sales/handlers/place-order.js'

describe('placeOrder', () => {
  it('publishes OrderPlaced for the accepted order', async () => {
    const context = createRecordingContext()
    await invoke(placeOrder, { orderId: 'o-1', items: ['book'] }, context)
    expect(context.published).toEqual([{ type: 'OrderPlaced', body: { orderId: 'o-1', items: ['book'] } }])
    expect(context.sent).toEqual([])
  })

  it('logs like the talk console', async () => {
    const context = createRecordingContext()
    await invoke(placeOrder, { orderId: 'o-7', items: ['pen'] }, context)
    expect(context.logs).toEqual([{ level: 'info', text: 'Received PlaceOrder, OrderId = o-7' }])
  })

  it('refuses an order without items, as the bus would', async () => {
    await expect(invoke(placeOrder, { orderId: 'o-1', items: [] })).rejects.toThrow(InvalidMessageError)
  })
})
