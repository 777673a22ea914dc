import { describe, expect, it } from 'vitest'
import { sagaScenario } from '../../../../src/bus/testing/index.js'
import { CancelOrder, PlaceOrder } from '../../../../src/modules/sales/messages.js'
import { Orders } from '../../../../src/modules/sales/orders.js'
import { buyersRemorseSaga } from '../../../../src/modules/sales/sagas/buyers-remorse-saga.js'

describe("the buyer's-remorse saga", () => {
  it('announces the order once its window has passed', async () => {
    const scenario = sagaScenario(buyersRemorseSaga({ windowMs: 10_000, now: () => 0 }))
    const placed = await scenario.given(PlaceOrder, { orderId: 'o-1', items: ['book'] })
    expect(placed.timeouts).toEqual([{ type: 'BuyersRemorseIsOver', body: { orderId: 'o-1' }, delayMs: 10_000, dueAtMs: 10_000 }])
    expect(scenario.published).toEqual([])
    expect(scenario.documents(Orders)['o-1']).toMatchObject({ status: 'in-window', windowEndsAt: 10_000 })
    await scenario.advanceTime(10_000)
    expect(scenario.published).toEqual([{ type: 'OrderPlaced', body: { orderId: 'o-1', items: ['book'] } }])
    expect(scenario.data('o-1')).toBeUndefined()
    expect(scenario.documents(Orders)['o-1']?.status).toBe('placed')
  })

  it('cancels an order inside its window: OrderCancelled, and OrderPlaced never comes', async () => {
    const scenario = sagaScenario(buyersRemorseSaga({ windowMs: 10_000 }))
    await scenario.given(PlaceOrder, { orderId: 'o-2', items: ['book'] })
    await scenario.advanceTime(9_999)
    expect(await scenario.given(CancelOrder, { orderId: 'o-2' })).toMatchObject({ outcome: 'handled', completed: true })
    expect(scenario.published).toEqual([{ type: 'OrderCancelled', body: { orderId: 'o-2' } }])
    expect(await scenario.advanceTime(1)).toMatchObject([{ type: 'BuyersRemorseIsOver', outcome: 'dropped' }])
    expect(scenario.published).toHaveLength(1)
    expect(scenario.documents(Orders)['o-2']?.status).toBe('cancelled')
  })

  it('announces at once, storing nothing, when the window is 0', async () => {
    const scenario = sagaScenario(buyersRemorseSaga({ windowMs: 0 }))
    const placed = await scenario.given(PlaceOrder, { orderId: 'o-0', items: ['book'] })
    expect(placed).toMatchObject({ outcome: 'started', completed: true, timeouts: [] })
    expect(scenario.published).toEqual([{ type: 'OrderPlaced', body: { orderId: 'o-0', items: ['book'] } }])
    expect(scenario.documents(Orders)['o-0']?.status).toBe('placed')
  })

  it('cannot cancel once the window has passed: the cancel is discarded', async () => {
    const scenario = sagaScenario(buyersRemorseSaga({ windowMs: 10_000 }))
    await scenario.given(PlaceOrder, { orderId: 'o-3', items: ['book'] })
    await scenario.advanceTime(10_000)
    const cancel = await scenario.given(CancelOrder, { orderId: 'o-3' })
    expect(cancel).toMatchObject({ outcome: 'not-found' })
    expect(cancel.context.logs.map((line) => line.text)).toEqual(['Order o-3 can no longer be cancelled: its window has passed (or it never existed)'])
    expect(scenario.published.map((message) => message.type)).toEqual(['OrderPlaced'])
    expect(scenario.documents(Orders)['o-3']?.status).toBe('placed')
  })
})
