import { describe, expect, it } from 'vitest'
import { handle, InvalidMessageError, InvalidOptionError } from '../../../src/bus/index.js'
import { createRecordingContext, invoke } from '../../../src/bus/testing/index.js'
import { CardCharged, ChargeCard, OrderTaken, SendReminder, TakeOrder } from '../support/shop-fixture.js'

const everything = handle(TakeOrder, async (order, context) => {
  await context.send(ChargeCard, { orderId: order.orderId, amount: order.amount }, { headers: { 'x-priority': 'high' } })
  await context.publish(OrderTaken, { orderId: order.orderId })
  await context.reply(CardCharged, { orderId: order.orderId })
  await context.defer(60_000, SendReminder, { orderId: order.orderId })
  context.log.warn('slow payment provider', { orderId: order.orderId })
})

describe('the recording context', () => {
  it('records sends, publishes, replies, deferrals and logs, with no bus', async () => {
    const context = createRecordingContext({ messageId: 'm-1', headers: { 'x-tenant': 'acme' } })
    await invoke(everything, { orderId: 'o-1', amount: 3 }, context)
    expect(context.sent).toEqual([{ type: 'ChargeCard', body: { orderId: 'o-1', amount: 3 }, headers: { 'x-priority': 'high' } }])
    expect(context.published).toEqual([{ type: 'OrderTaken', body: { orderId: 'o-1' } }])
    expect(context.replied).toEqual([{ type: 'CardCharged', body: { orderId: 'o-1' } }])
    expect(context.deferred).toEqual([{ type: 'SendReminder', body: { orderId: 'o-1' }, delayMs: 60_000 }])
    expect(context.logs).toEqual([{ level: 'warn', text: 'slow payment provider', fields: { orderId: 'o-1' } }])
    expect(context.messageId).toBe('m-1')
    expect(context.headers).toMatchObject({ 'mailroom.message-id': 'm-1', 'x-tenant': 'acme' })
  })

  it('validates outgoing bodies, so a test fails where the bus would', async () => {
    const sloppy = handle(TakeOrder, async (order, context) => {
      await context.send(ChargeCard, { orderId: order.orderId } as never)
    })
    await expect(invoke(sloppy, { orderId: 'o-1', amount: 1 })).rejects.toThrow(InvalidMessageError)
  })

  it('refuses to publish a command', async () => {
    const wrong = handle(TakeOrder, async (order, context) => {
      await context.publish(ChargeCard as never, { orderId: order.orderId, amount: 1 } as never)
    })
    await expect(invoke(wrong, { orderId: 'o-1', amount: 1 })).rejects.toThrow(InvalidOptionError)
  })
})
