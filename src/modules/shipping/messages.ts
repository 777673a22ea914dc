import { Type } from '@sinclair/typebox'
import { defineEvent } from '../../bus/index.js'

/** Shipping sent the parcel: the order was both placed and billed. */
export const OrderShipped = defineEvent('OrderShipped', Type.Object({ orderId: Type.String() }))

/** Billing has not arrived within Shipping's waiting period; the order still ships once it does. */
export const OrderShippingDelayed = defineEvent('OrderShippingDelayed', Type.Object({ orderId: Type.String() }))
