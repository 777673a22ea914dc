import { describe, expect, it } from 'vitest'
import { createRecordingContext, invoke } from '../../../../src/bus/testing/index.js'
import { Charges } from '../../../../src/modules/billing/charges.js'
import { chargeForOrder } from '../../../../src/modules/billing/handlers/charge-for-order.js'
import { createPaymentGateway, GatewayRateLimitedError } from '../../../../src/modules/billing/payment-gateway.js'

describe('chargeForOrder', () => {
  it('charges the card, records the charge and publishes OrderBilled', async () => {
    const gateway = createPaymentGateway({ limitPerSecond: undefined })
    const context = createRecordingContext()
    await invoke(chargeForOrder(gateway, () => 7), { orderId: 'o-1', items: ['book'] }, context)
    expect(context.published).toEqual([{ type: 'OrderBilled', body: { orderId: 'o-1' } }])
    expect(context.logs[0]).toEqual({ level: 'info', text: 'Received OrderPlaced, OrderId = o-1 - charging credit card', fields: { orderId: 'o-1' } })
    expect(gateway.charged).toBe(1)
    expect(context.documents(Charges)['o-1']).toMatchObject({ orderId: 'o-1', billedAt: 7, chargeId: expect.stringMatching(/^ch-/) })
    expect(context.written).toEqual([{ table: 'charges', key: 'o-1', doc: context.documents(Charges)['o-1'] }])
  })

  it('charges once when the same order comes again (a redelivery): the gateway answers from its memory', async () => {
    const gateway = createPaymentGateway({ limitPerSecond: undefined })
    const handler = chargeForOrder(gateway)
    const first = createRecordingContext()
    await invoke(handler, { orderId: 'o-1', items: ['book'] }, first)
    const again = createRecordingContext()
    await invoke(handler, { orderId: 'o-1', items: ['book'] }, again)
    expect(gateway).toMatchObject({ charged: 1, duplicates: 1, chargedTwice: 0 })
    expect(again.documents(Charges)['o-1']?.chargeId).toBe(first.documents(Charges)['o-1']?.chargeId)
    expect(again.published).toEqual([{ type: 'OrderBilled', body: { orderId: 'o-1' } }])
  })

  it('fails, publishing nothing and writing nothing, while the gateway refuses', async () => {
    let now = 0
    const gateway = createPaymentGateway({ limitPerSecond: 2, now: () => now })
    const handler = chargeForOrder(gateway)
    await invoke(handler, { orderId: 'a', items: ['x'] })
    await invoke(handler, { orderId: 'b', items: ['x'] })
    const context = createRecordingContext()
    await expect(invoke(handler, { orderId: 'c', items: ['x'] }, context)).rejects.toThrow(GatewayRateLimitedError)
    expect(context.published).toEqual([])
    expect(context.written).toEqual([])
    now = 1_000
    await invoke(handler, { orderId: 'c', items: ['x'] })
    expect(gateway.charged).toBe(3)
  })
})
