import { describe, expect, it } from 'vitest'
import { sagaScenario } from '../../../../src/bus/testing/index.js'
import { OrderBilled } from '../../../../src/modules/billing/messages.js'
import { OrderPlaced } from '../../../../src/modules/sales/messages.js'
import { shippingPolicySaga } from '../../../../src/modules/shipping/sagas/shipping-policy-saga.js'
import { Shipments } from '../../../../src/modules/shipping/shipments.js'

const placed = { orderId: 'o-1', items: ['book'] }

describe('the shipping policy saga', () => {
  it.each([
    ['placed, then billed', true],
    ['billed, then placed', false],
  ])('ships once both events have arrived (%s), and completes', async (_name, placedFirst) => {
    const scenario = sagaScenario(shippingPolicySaga({ billingWaitMs: 30_000, now: () => 5 }))
    if (placedFirst) await scenario.given(OrderPlaced, placed)
    else await scenario.given(OrderBilled, { orderId: 'o-1' })
    expect(scenario.published).toEqual([])
    expect(scenario.data('o-1')).toMatchObject({ placed: placedFirst, billed: !placedFirst })
    const second = placedFirst ? await scenario.given(OrderBilled, { orderId: 'o-1' }) : await scenario.given(OrderPlaced, placed)
    expect(second.completed).toBe(true)
    expect(scenario.published).toEqual([{ type: 'OrderShipped', body: { orderId: 'o-1' } }])
    expect(scenario.documents(Shipments)['o-1']).toMatchObject({ shippedAt: 5 })
  })

  it('tells the client the shipment is delayed when billing is late, then ships when it comes', async () => {
    const scenario = sagaScenario(shippingPolicySaga({ billingWaitMs: 30_000 }))
    const first = await scenario.given(OrderPlaced, placed)
    expect(first.timeouts).toMatchObject([{ type: 'BillingIsLate', delayMs: 30_000 }])
    const [late] = await scenario.advanceTime(30_000)
    expect(late?.context.published).toEqual([{ type: 'OrderShippingDelayed', body: { orderId: 'o-1' } }])
    expect(scenario.data('o-1')).toMatchObject({ delayed: true })
    await scenario.given(OrderBilled, { orderId: 'o-1' })
    expect(scenario.published.map((message) => message.type)).toEqual(['OrderShippingDelayed', 'OrderShipped'])
  })

  it('drops the reminder when the order shipped before it fell due', async () => {
    const scenario = sagaScenario(shippingPolicySaga({ billingWaitMs: 30_000 }))
    await scenario.given(OrderPlaced, placed)
    await scenario.given(OrderBilled, { orderId: 'o-1' })
    expect(await scenario.advanceTime(30_000)).toMatchObject([{ type: 'BillingIsLate', outcome: 'dropped' }])
    expect(scenario.published.map((message) => message.type)).toEqual(['OrderShipped'])
  })
})
