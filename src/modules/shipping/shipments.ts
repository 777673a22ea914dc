import { Type, type Static } from '@sinclair/typebox'
import { defineTable, type Table } from '../../bus/index.js'

/**
 * Shipping's own data: what it heard of each order, whether it told the client about a delay, when it
 * shipped. Module data: it commits with the saga's messages and outlives a restart.
 */
export const Shipments = defineTable(
  'shipments',
  Type.Object(
    { orderId: Type.String(), placed: Type.Boolean(), billed: Type.Boolean(), delayed: Type.Boolean(), shippedAt: Type.Optional(Type.Number()) },
    { additionalProperties: false },
  ),
)

export type Shipment = Static<typeof Shipments.schema>

/** Changes an order's shipment (made when first heard of); `shippedAt` is set once. */
export async function updateShipment(shipments: Table<Shipment>, orderId: string, change: Partial<Omit<Shipment, 'orderId'>>): Promise<void> {
  const known = (await shipments.get(orderId)) ?? { orderId, placed: false, billed: false, delayed: false }
  const next: Shipment = { ...known, ...change }
  if (known.shippedAt !== undefined) next.shippedAt = known.shippedAt
  shipments.put(orderId, next)
}
