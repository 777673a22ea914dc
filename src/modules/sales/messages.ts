import { Type } from '@sinclair/typebox'
import { defineCommand, defineEvent } from '../../bus/index.js'

const OrderId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' })
const Items = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: 50 })

/** The client UI asks Sales to take an order (verb + noun: an instruction to one owner). */
export const PlaceOrder = defineCommand('PlaceOrder', Type.Object({ orderId: OrderId, items: Items }))

/** Sales accepted an order (noun + past verb: a fact). Billing and Shipping subscribe. */
export const OrderPlaced = defineEvent('OrderPlaced', Type.Object({ orderId: OrderId, items: Items }))

/** The client changed their mind; honoured while the order is in its buyer's-remorse window. */
export const CancelOrder = defineCommand('CancelOrder', Type.Object({ orderId: OrderId }))

/** Sales cancelled an order inside its window: it was never placed, nobody bills or ships it. */
export const OrderCancelled = defineEvent('OrderCancelled', Type.Object({ orderId: OrderId }))
