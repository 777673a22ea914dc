import { Type, type Static } from '@sinclair/typebox'
import { defineTable, type SagaContext } from '../../bus/index.js'

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

/**
 * Writes the order's shipment as the shipping-policy saga knows it: the saga's data says what was heard,
 * so nothing is read back first (a read of a document written thousands of messages ago goes to the
 * disk: the shop shipped a third fewer orders a second while every step read its shipment). Only an
 * instance's first message looks, in case an instance long completed shipped the order already: that
 * shipment stays as it is.
 */
export async function recordShipment(context: SagaContext<ShippingData>, options: { first?: boolean; shippedAt?: number } = {}): Promise<void> {
  const { orderId, placed, billed, delayed } = context.data
  const shipments = context.table(Shipments)
  if (options.first && (await shipments.get(orderId))?.shippedAt !== undefined) return
  shipments.put(orderId, { orderId, placed, billed, delayed, ...(options.shippedAt !== undefined ? { shippedAt: options.shippedAt } : {}) })
}

interface ShippingData {
  orderId: string
  placed: boolean
  billed: boolean
  delayed: boolean
}
