import type { Bus } from '../bus/index.js'
import type { Comparison } from '../demos/rainy-day/comparison.js'
import type { SyncChainOptions } from '../demos/rainy-day/sync-chain.js'
import type { RecentOrders } from './observers/recent-orders.js'

/** An order as each module knows it; the composition root supplies the lookup. */
export interface OrderView {
  orderId: string
  /** The conversation of the order's messages (from Sales' data). */
  conversationId?: string
  sales: Record<string, unknown>
  billing: Record<string, unknown>
  shipping: Record<string, unknown>
}

/** One row of the order list. */
export interface OrderSummary {
  orderId: string
  conversationId: string
  receivedAt: number
  /** Sales' side: in its buyer's-remorse window (cancellable), placed, or cancelled. */
  sales: 'in-window' | 'placed' | 'cancelled' | 'unknown'
  placed: boolean
  billed: boolean
  shipped: boolean
  /** Shipping told the client billing is late. */
  delayed: boolean
}

export interface OrderPage {
  items: OrderSummary[]
  /** The cursor of the next (older) page; absent on the last page. */
  next?: string
}

/** What the simulated payment gateway counted: money moved, repeated requests answered from memory, orders charged twice. */
export interface GatewayCounts {
  charged: number
  duplicates: number
  chargedTwice: number
}

/** What the console reads of the shop's modules; the composition root supplies it. */
export interface ShopReads {
  /** The order as each module knows it; undefined when none does. */
  order(orderId: string): Promise<OrderView | undefined>
  /** Orders newest first, a page at a time; undefined when Sales' data is not in this process. */
  orders(options: { cursor?: string; limit: number }): Promise<OrderPage | undefined>
  /** The payment gateway's counts; undefined when Billing is not in this process. */
  gateway(): GatewayCounts | undefined
  /** How often the payment gateway charged the order (0: never); undefined when Billing is not in this process. */
  timesCharged(orderId: string): number | undefined
}

/** What the shop's own routes use: its reads, its orders, the rainy day. Attached to the root as `app.shop`. */
export interface ShopContext extends ShopReads {
  bus: Bus
  /** Orders placed from this console: the list when Sales' data is in another process. */
  recentOrders: RecentOrders
  /** Orders newest first: Sales' data when it is here, else the orders placed from this console. */
  orderPage(options: { cursor?: string; limit: number }): Promise<OrderPage>
  /** Places one order; resolves once PlaceOrder is on disk. */
  placeOrder(items: string[] | undefined): Promise<{ orderId: string; messageId: string; conversationId: string }>
  /** Places `count` orders (1 to maxBatch; otherwise a 400 naming body/count); resolves once all are on disk. */
  placeOrders(count: number): Promise<{ orderIds: string[] }>
  /** Sends CancelOrder for an order still in its buyer's-remorse window; NotFoundError or ConflictError otherwise. */
  cancelOrder(orderId: string): Promise<{ orderId: string; messageId: string }>
  /** The largest `count` POST /api/orders/batch accepts. */
  maxBatch: number
  /** The rainy day: the same campaign against the synchronous chain and the messaging shop. */
  comparison: Comparison
  /** What the rainy day's chain does: its gateway's limit and latency, its callers' timeout and retries. */
  rainyDayChain: Required<SyncChainOptions>
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The shop's context, on the shop app's root. */
    shop: ShopContext
  }
}
