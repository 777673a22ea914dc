import { Type } from '@sinclair/typebox'
import { defineCommand, defineEvent } from '../../bus/index.js'

const OrderId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' })
const Items = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: 50 })

/** The client UI asks Sales to take an order (verb + noun: an instruction to one owner). */
export const PlaceOrder = defineCommand('PlaceOrder', Type.Object({ orderId: OrderId, items: Items }))

/** Sales accepted an order (noun + past verb: a fact). Billing and Shipping subscribe. */
export const OrderPlaced = defineEvent('OrderPlaced', Type.Object({ orderId: OrderId, items: Items }))
