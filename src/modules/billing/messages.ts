import { Type } from '@sinclair/typebox'
import { defineEvent } from '../../bus/index.js'

/** Billing charged the customer for an order. */
export const OrderBilled = defineEvent('OrderBilled', Type.Object({ orderId: Type.String() }))
