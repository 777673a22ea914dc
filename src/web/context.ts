import type { Bus } from '../bus/index.js'
import type { ConversationLog } from './observers/conversation-log.js'
import type { MetricsSampler } from './observers/metrics-sampler.js'
import type { RecentOrders } from './observers/recent-orders.js'

/** An order as each module knows it; the composition root supplies the lookup. */
export interface OrderView {
  orderId: string
  sales: Record<string, unknown>
  billing: Record<string, unknown>
  shipping: Record<string, unknown>
}

/** What every route of the console may use. Attached once to the root instance as `app.console`. */
export interface ConsoleContext {
  bus: Bus
  order: (orderId: string) => OrderView
  recentOrders: RecentOrders
  conversations: ConversationLog
  metrics: MetricsSampler
  /** Places one order; resolves once PlaceOrder is on disk. */
  placeOrder(items: string[] | undefined): Promise<{ orderId: string; messageId: string; conversationId: string }>
  /** Sends CancelOrder for an order still in its buyer's-remorse window; NotFoundError or ConflictError otherwise. */
  cancelOrder(orderId: string): Promise<{ orderId: string; messageId: string }>
  /** The largest `count` POST /api/orders/batch accepts. */
  maxBatch: number
  /** The live stream (/api/stream): its limit per client, and its clients now and dropped so far. */
  stream: { readonly maxBufferedBytes: number; clients: number; dropped: number }
}

declare module 'fastify' {
  interface FastifyInstance {
    console: ConsoleContext
  }
}
