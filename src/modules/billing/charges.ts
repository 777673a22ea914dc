import { Type, type Static } from '@sinclair/typebox'
import { defineTable } from '../../bus/index.js'

/** Billing's own data: each order it charged, with the gateway's charge id. */
export const Charges = defineTable(
  'charges',
  Type.Object({ orderId: Type.String(), chargeId: Type.String(), billedAt: Type.Number() }, { additionalProperties: false }),
)

export type Charge = Static<typeof Charges.schema>
