import { Type } from '@sinclair/typebox'
import { pino } from 'pino'
import { describe, expectTypeOf, it } from 'vitest'
import { createBus, defineCommand, defineEvent, defineTable, handle, type BodyOf, type DocumentOf } from '../../src/bus/index.js'

const PlaceOrder = defineCommand('PlaceOrder', Type.Object({ orderId: Type.String(), items: Type.Array(Type.String()) }))
const OrderPlaced = defineEvent('OrderPlaced', Type.Object({ orderId: Type.String() }))
const Orders = defineTable('orders', Type.Object({ orderId: Type.String(), total: Type.Number() }))

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

  it("logs in pino's argument order, to a pino logger", () => {
    handle(PlaceOrder, async (order, { log }) => {
      log.info('placed')
      log.info({ orderId: order.orderId }, 'placed')
      log.error(new Error('refused'), 'charge refused')
      // @ts-expect-error the fields come first, as in pino and Fastify's request.log
      log.info('placed', { orderId: order.orderId })
    })
    expectTypeOf(createBus).toBeCallableWith({ modules: [], logger: pino() })
  })

  it("lets a bus's user listen to its signals, never emit them or clear other listeners", () => {
    const bus = createBus({ modules: [], storage: 'memory' } as never)
    bus.signals.on('message:handled', (signal) => expectTypeOf(signal.durationMs).toBeNumber())
    // @ts-expect-error only the bus says what happened
    void (() => bus.signals.emit('log', { module: 'sales', level: 'info', text: 'forged', at: 0 }))
    // @ts-expect-error the listeners are not the user's to clear
    void (() => bus.signals.all.clear())
  })

  it('types a table’s documents from its schema, in handlers and outside them', () => {
    expectTypeOf<DocumentOf<typeof Orders>>().toEqualTypeOf<{ orderId: string; total: number }>()
    handle(PlaceOrder, async (order, context) => {
      const orders = context.table(Orders)
      const known = await orders.get(order.orderId)
      expectTypeOf(known).toEqualTypeOf<{ orderId: string; total: number } | undefined>()
      orders.put(order.orderId, { orderId: order.orderId, total: 1 })
      // @ts-expect-error total must be a number
      orders.put(order.orderId, { orderId: order.orderId, total: '1' })
      // @ts-expect-error no such field on the document
      void known?.customerId
      const page = await orders.list({ order: 'newest', limit: 10 })
      expectTypeOf(page.items[0]!.doc.total).toBeNumber()
    })
    const bus = createBus({ modules: [], storage: 'memory' } as never)
    const reader = bus.table(Orders)
    // @ts-expect-error read-only outside handlers
    void reader.put
  })
})
