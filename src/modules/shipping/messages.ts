import { Type } from '@sinclair/typebox'
import { defineEvent } from '../../bus/index.js'

/** Shipping sent the parcel: the order was both placed and billed. */
export const OrderShipped = defineEvent('OrderShipped', Type.Object({ orderId: Type.String() }))
