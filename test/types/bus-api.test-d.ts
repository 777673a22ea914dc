import { Type } from '@sinclair/typebox'
import { describe, expectTypeOf, it } from 'vitest'
import { createBus, defineCommand, defineEvent, handle, type BodyOf } from '../../src/bus/index.js'

const PlaceOrder = defineCommand('PlaceOrder', Type.Object({ orderId: Type.String(), items: Type.Array(Type.String()) }))
const OrderPlaced = defineEvent('OrderPlaced', Type.Object({ orderId: Type.String() }))

describe('types from one declaration', () => {
  it('derives the body type from the schema', () => {
    expectTypeOf<BodyOf<typeof PlaceOrder>>().toEqualTypeOf<{ orderId: string; items: string[] }>()
  })

  it('types the handler message from its definition', () => {
    handle(PlaceOrder, async (order, context) => {
      expectTypeOf(order.orderId).toBeString()
      // @ts-expect-error no such field on PlaceOrder
      void order.customerId
      await context.publish(OrderPlaced, { orderId: order.orderId })
      // @ts-expect-error OrderPlaced needs an orderId
      await context.publish(OrderPlaced, {})
      // @ts-expect-error a command cannot be published
      await context.publish(PlaceOrder, { orderId: 'x', items: [] })
      // @ts-expect-error an event cannot be sent
      await context.send(OrderPlaced, { orderId: 'x' })
    })
  })

  it('checks bodies at bus.send and bus.publish', () => {
    const bus = createBus({ modules: [], storage: 'memory' } as never)
    expectTypeOf(bus.send).toBeFunction()
    // @ts-expect-error items must be strings
    void (() => bus.send(PlaceOrder, { orderId: 'o', items: [1] }))
    // @ts-expect-error an event is published, not sent
    void (() => bus.send(OrderPlaced, { orderId: 'o' }))
  })
})
