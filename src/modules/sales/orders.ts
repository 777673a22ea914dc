import { Type, type Static } from '@sinclair/typebox'
import { defineTable, type Table } from '../../bus/index.js'

/**
 * Sales' orders: in their buyer's-remorse window, placed, or cancelled. Module data, so it commits with the
 * saga's messages and outlives a restart.
 */
export const Orders = defineTable(
  'orders',
  Type.Object(
    {
      orderId: Type.String(),
      items: Type.Array(Type.String()),
      status: Type.Union([Type.Literal('in-window'), Type.Literal('placed'), Type.Literal('cancelled')]),
      receivedAt: Type.Number(),
      /** When the window closes (for orders in it). */
      windowEndsAt: Type.Optional(Type.Number()),
      /** The conversation the order's messages belong to: the console links its diagram. */
      conversationId: Type.String(),
    },
    { additionalProperties: false },
  ),
)

export type Order = Static<typeof Orders.schema>

/**
 * Moves an order on; a later status never goes back (a retried handler may repeat a step). An order the
 * table does not have (received before the table existed) is added.
 */
export async function settleOrder(orders: Table<Order>, order: Omit<Order, 'status' | 'windowEndsAt'>, status: 'placed' | 'cancelled'): Promise<void> {
  const known = await orders.get(order.orderId)
  if (known && known.status !== 'in-window') return
  const { windowEndsAt: _closed, ...rest }: Order = known ?? { ...order, status }
  orders.put(order.orderId, { ...rest, status })
}
