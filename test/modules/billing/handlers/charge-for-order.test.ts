import { describe, expect, it } from 'vitest'
import { createRecordingContext, invoke } from '../../../../src/bus/testing/index.js'
import { chargeForOrder } from '../../../../src/modules/billing/handlers/charge-for-order.js'
import { createBillingLedger } from '../../../../src/modules/billing/ledger.js'
import { createPaymentGateway, GatewayRateLimitedError } from '../../../../src/modules/billing/payment-gateway.js'

describe('chargeForOrder', () => {
  it('charges the card, records it and publishes OrderBilled', async () => {
    const gateway = createPaymentGateway({ limitPerSecond: undefined })
    const ledger = createBillingLedger()
    const context = createRecordingContext()
    await invoke(chargeForOrder(gateway, ledger, () => 7), { orderId: 'o-1', items: ['book'] }, context)
    expect(context.published).toEqual([{ type: 'OrderBilled', body: { orderId: 'o-1' } }])
    expect(context.logs[0]?.text).toBe('Received OrderPlaced, OrderId = o-1 - charging credit card')
    expect(gateway.charged).toBe(1)
    expect(ledger.billedAt('o-1')).toBe(7)
  })

  it('fails, publishing nothing, while the gateway refuses', async () => {
    let now = 0
    const gateway = createPaymentGateway({ limitPerSecond: 2, now: () => now })
    const handler = chargeForOrder(gateway, createBillingLedger())
    await invoke(handler, { orderId: 'a', items: ['x'] })
    await invoke(handler, { orderId: 'b', items: ['x'] })
    const context = createRecordingContext()
    await expect(invoke(handler, { orderId: 'c', items: ['x'] }, context)).rejects.toThrow(GatewayRateLimitedError)
    expect(context.published).toEqual([])
    now = 1_000
    await invoke(handler, { orderId: 'c', items: ['x'] })
    expect(gateway.charged).toBe(3)
  })
})
