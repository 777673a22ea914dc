import { Type } from '@sinclair/typebox'
import { defineCommand, defineEvent } from '../../bus/index.js'

/** The client UI asks Sales to take an order. */
export const PlaceOrder = defineCommand(
  'PlaceOrder',
  Type.Object({ orderId: Type.String({ minLength: 1, maxLength: 64 }), items: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: 50 }) }),
)

/** Sales accepted an order. Billing and Shipping subscribe. */
export const OrderPlaced = defineEvent('OrderPlaced', Type.Object({ orderId: Type.String(), items: Type.Array(Type.String()) }))
