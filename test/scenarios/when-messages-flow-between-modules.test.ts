import { describe, expect, it } from 'vitest'
import { createBus, MessageHeaders } from '../../src/bus/index.js'
import { createVirtualClock } from '../../src/bus/testing/index.js'
import { createFixtureModules, OrderTaken, TakeOrder } from '../bus/support/shop-fixture.js'

describe('when messages flow between modules', () => {
  it('routes a command, fans an event out to subscribers and delivers the reply to the sender', async () => {
    const { modules, routes, log } = createFixtureModules()
    const bus = createBus({ modules, routes, storage: 'memory' })
    await bus.start()
    const result = await bus.send(TakeOrder, { orderId: 'o-1', amount: 10 })
    await bus.idle()
    expect(log).toMatchObject({ taken: ['o-1'], charged: ['o-1'], confirmed: ['o-1'], notified: ['o-1'], reminded: [] })
    expect(result.conversationId).toBe(result.messageId)
    await bus.stop()
  })

  it('stamps correlation, conversation and causation headers along the chain', async () => {
    const { modules, routes, log } = createFixtureModules()
    const bus = createBus({ modules, routes, storage: 'memory' })
    await bus.start()
    const { messageId, conversationId } = await bus.send(TakeOrder, { orderId: 'o-2', amount: 1 }, { headers: { 'x-tenant': 'acme' } })
    await bus.idle()
    const [taken] = log.takenHeaders
    expect(taken).toMatchObject({
      [MessageHeaders.MessageId]: messageId,
      [MessageHeaders.Type]: 'TakeOrder',
      [MessageHeaders.Kind]: 'command',
      [MessageHeaders.ConversationId]: messageId,
      [MessageHeaders.CorrelationId]: messageId,
      [MessageHeaders.OriginModule]: 'outside',
      'x-tenant': 'acme',
    })
    expect(taken).not.toHaveProperty(MessageHeaders.CausationId)
    expect(Date.parse(taken![MessageHeaders.SentAt]!)).not.toBeNaN()
    const [event] = log.notifiedHeaders
    expect(event).toMatchObject({
      [MessageHeaders.Type]: 'OrderTaken',
      [MessageHeaders.Kind]: 'event',
      [MessageHeaders.ConversationId]: conversationId,
      [MessageHeaders.CorrelationId]: messageId,
      [MessageHeaders.CausationId]: messageId,
      [MessageHeaders.OriginModule]: 'orders',
      [MessageHeaders.ReplyTo]: 'orders',
    })
    expect(event![MessageHeaders.MessageId]).not.toBe(messageId)
    await bus.stop()
  })

  it('delivers a deferred message only when its time comes', async () => {
    const clock = createVirtualClock()
    const { modules, routes, log } = createFixtureModules({ remindAfterMs: 60_000 })
    const bus = createBus({ modules, routes, storage: 'memory', clock })
    await bus.start()
    await bus.send(TakeOrder, { orderId: 'o-3', amount: 5 })
    await bus.idle()
    expect(log.reminded).toEqual([])
    clock.advance(59_999)
    await bus.idle()
    expect(log.reminded).toEqual([])
    clock.advance(1)
    await bus.idle()
    expect(log.reminded).toEqual(['o-3'])
    await bus.stop()
  })

  it('publishes from outside a handler to every subscriber', async () => {
    const { modules, routes, log } = createFixtureModules()
    const bus = createBus({ modules, routes, storage: 'memory' })
    await bus.start()
    await bus.publish(OrderTaken, { orderId: 'e-1' })
    await bus.idle()
    expect(log.notified).toEqual(['e-1'])
    await bus.stop()
  })
})
