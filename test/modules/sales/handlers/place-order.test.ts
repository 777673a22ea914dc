import { describe, expect, it } from 'vitest'
import { InvalidMessageError } from '../../../../src/bus/index.js'
import { createRecordingContext, invoke } from '../../../../src/bus/testing/index.js'
import { placeOrder } from '../../../../src/modules/sales/handlers/place-order.js'
import { createOrderBook } from '../../../../src/modules/sales/order-book.js'

describe('placeOrder', () => {
  it('records the order and publishes OrderPlaced', async () => {
    const orders = createOrderBook()
    const context = createRecordingContext()
    await invoke(placeOrder(orders, () => 42), { orderId: 'o-1', items: ['book'] }, context)
    expect(context.published).toEqual([{ type: 'OrderPlaced', body: { orderId: 'o-1', items: ['book'] } }])
    expect(context.sent).toEqual([])
    expect(orders.find('o-1')).toEqual({ items: ['book'], placedAt: 42 })
  })

  it('logs like the talk console', async () => {
    const context = createRecordingContext()
    await invoke(placeOrder(createOrderBook()), { orderId: 'o-7', items: ['pen'] }, context)
    expect(context.logs).toEqual([{ level: 'info', text: 'Received PlaceOrder, OrderId = o-7' }])
  })

  it('refuses an order without items, as the bus would', async () => {
    await expect(invoke(placeOrder(createOrderBook()), { orderId: 'o-1', items: [] })).rejects.toThrow(InvalidMessageError)
  })
})
