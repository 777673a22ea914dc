import { describe, expect, it } from 'vitest'
import { handle, InvalidMessageError, MessageKindMismatchError, DataInvalidError } from '../../../src/bus/index.js'
import { CountUp, DeleteNote, Notes, PutBadNote } from '../support/data-fixture.js'
import { createRecordingContext, invoke } from '../../../src/bus/testing/index.js'
import { CardCharged, ChargeCard, OrderTaken, SendReminder, TakeOrder } from '../support/shop-fixture.js'

const everything = handle(TakeOrder, async (order, context) => {
  await context.send(ChargeCard, { orderId: order.orderId, amount: order.amount }, { headers: { 'x-priority': 'high' } })
  await context.publish(OrderTaken, { orderId: order.orderId })
  await context.reply(CardCharged, { orderId: order.orderId })
  await context.defer(60_000, SendReminder, { orderId: order.orderId })
  context.log.warn({ orderId: order.orderId }, 'slow payment provider')
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

  it('refuses to publish a command, as the bus does', async () => {
    const wrong = handle(TakeOrder, async (order, context) => {
      await context.publish(ChargeCard as never, { orderId: order.orderId, amount: 1 } as never)
    })
    await expect(invoke(wrong, { orderId: 'o-1', amount: 1 })).rejects.toThrow(MessageKindMismatchError)
  })

  it('holds the module’s tables in memory: a test seeds documents and sees what the handler wrote', async () => {
    const countUp = handle(CountUp, async ({ key }, context) => {
      const notes = context.table(Notes)
      const before = await notes.get(key)
      notes.put(key, { text: before?.text ?? '', count: (before?.count ?? 0) + 1 })
    })
    const context = createRecordingContext()
    context.seed(Notes, { a: { text: 'seeded', count: 41 }, b: { text: 'other', count: 0 } })
    await invoke(countUp, { key: 'a' }, context)
    await invoke(handle(DeleteNote, async ({ key }, c) => c.table(Notes).delete(key)), { key: 'b' }, context)
    expect(context.documents(Notes)).toEqual({ a: { text: 'seeded', count: 42 } })
    expect(context.written).toEqual([
      { table: 'notes', key: 'a', doc: { text: 'seeded', count: 42 } },
      { table: 'notes', key: 'b', deleted: true },
    ])
    expect((await context.table(Notes).list({ order: 'newest' })).items.map((item) => item.key)).toEqual(['a'])
    // A document that breaks the schema is refused as the bus would refuse it.
    await expect(invoke(handle(PutBadNote, async ({ key }, c) => c.table(Notes).put(key, { text: 'x', count: -1 })), { key: 'c' }, context)).rejects.toThrow(DataInvalidError)
  })
})
