import { describe, expect, it } from 'vitest'
import { sagaScenario } from '../../../src/bus/testing/index.js'
import { BillingOverdue, createShippingPolicy, OrderBilled, OrderPlaced } from '../support/saga-fixture.js'

describe('sagaScenario', () => {
  it('runs a saga with no bus: data, what it published, the timeouts it asked for', async () => {
    const scenario = sagaScenario(createShippingPolicy({ overdueMs: 1_000 }))
    const placed = await scenario.given(OrderPlaced, { orderId: 'o-1' })
    expect(placed).toMatchObject({ outcome: 'started', completed: false })
    expect(placed.timeouts).toEqual([{ type: 'BillingOverdue', body: { orderId: 'o-1' }, delayMs: 1_000, dueAtMs: 1_000 }])
    expect(scenario.data()).toEqual({ orderId: 'o-1', placed: true, billed: false, reminders: 0 })
    const billed = await scenario.given(OrderBilled, { orderId: 'o-1' })
    expect(billed).toMatchObject({ outcome: 'handled', completed: true })
    expect(scenario.published).toEqual([{ type: 'OrderShipped', body: { orderId: 'o-1' } }])
    expect(scenario.data()).toBeUndefined()
    // The timeout still falls due, and is dropped: the instance has completed.
    expect(await scenario.advanceTime(1_000)).toMatchObject([{ type: 'BillingOverdue', outcome: 'dropped' }])
  })

  it('delivers due timeouts to an active instance as time passes', async () => {
    const scenario = sagaScenario(createShippingPolicy({ overdueMs: 1_000 }))
    await scenario.given(OrderPlaced, { orderId: 'o-2' })
    expect(await scenario.advanceTime(999)).toEqual([])
    const [fired] = await scenario.advanceTime(1)
    expect(fired).toMatchObject({ type: BillingOverdue.type, outcome: 'handled' })
    expect(fired?.context.published).toEqual([{ type: 'ShippingDelayed', body: { orderId: 'o-2' } }])
    expect(scenario.data('o-2')).toMatchObject({ reminders: 1 })
    expect(scenario.pendingTimeouts).toEqual([])
  })

  it('refuses, as the bus would, a body that fails its schema', async () => {
    const scenario = sagaScenario(createShippingPolicy())
    await expect(scenario.given(OrderPlaced, { orderId: 7 } as never)).rejects.toMatchObject({ code: 'MAILROOM_ERR_MESSAGE_INVALID' })
  })

  it('reports a message for an instance that does not exist and does not start one', async () => {
    const scenario = sagaScenario(createShippingPolicy({ placedStarts: false }))
    expect(await scenario.given(OrderPlaced, { orderId: 'o-3' })).toMatchObject({ outcome: 'not-found' })
    expect(scenario.data('o-3')).toBeUndefined()
  })
})
