import { describe, expect, it } from 'vitest'
import { createRecordingContext, invoke } from '../../../../src/bus/testing/index.js'
import { chargeForOrder } from '../../../../src/modules/billing/handlers/charge-for-order.js'

describe('chargeForOrder', () => {
  it('publishes OrderBilled for the placed order', async () => {
    const context = createRecordingContext()
    await invoke(chargeForOrder, { orderId: 'o-1', items: ['book'] }, context)
    expect(context.published).toEqual([{ type: 'OrderBilled', body: { orderId: 'o-1' } }])
    expect(context.logs[0]?.text).toBe('Received OrderPlaced, OrderId = o-1 - charging credit card')
  })
})
