import { join } from 'node:path'
import pg from 'pg'
import { postgresPersistence } from './bus/postgres.js'
import { asPersistenceError, postgresAddress } from './bus/persistence/postgres/database-errors.js'
import { openSharedGatewayMemory } from './modules/billing/shared-gateway-memory.js'
import { createBus, faultInjection, type Bus, type ConsoleLink, type ModuleViews, type BusOptions, type ModuleDefinition, type RecoverabilityOptions } from './bus/index.js'
import { billingView } from './modules/billing/index.js'
import type { GatewayCounts } from './modules/billing/payment-gateway.js'
import { salesView } from './modules/sales/index.js'
import type { Order } from './modules/sales/orders.js'
import { shippingView } from './modules/shipping/index.js'
import { warnWhenSlow } from './shop-behaviors.js'
import { ShopModuleInvalidError } from './shop-errors.js'
import * as shopModules from './shop-modules.js'
import type { OrderSummary, OrderView } from './web/shop-context.js'

export interface ShopOptions extends Omit<BusOptions, 'modules' | 'routes' | 'consoleLink'> {
  /**
   * With a broker: the link over which the modules report to a console in another process, given the
   * shop's views of its orders (e.g. `(views) => createAmqpConsoleLink({ url, views })`).
   */
  consoleLink?: (views: ModuleViews) => ConsoleLink
  recoverability?: RecoverabilityOptions
  /** The simulated payment gateway's limit; undefined turns it off. @default 50 */
  gatewayLimitPerSecond?: number | undefined
  /** Billing's pace; undefined turns the limit off. @default 40 */
  billingMaxPerSecond?: number | undefined
  /** How long a client may cancel an order before Sales announces it. @default 10 s */
  buyersRemorseMs?: number
  /** How long Shipping waits for billing before it reports a delay. @default 30 s */
  billingWaitMs?: number
  /**
   * Keep the modules' data in PostgreSQL instead of journal files: every process of the shop (each module,
   * each instance of one) shares it, and so does the simulated payment gateway's memory.
   */
  postgres?: { url: string; prefix?: string; takeOverAfterMs?: number }
}

export type { OrderSummary, OrderView }

export interface Shop {
  bus: Bus
  /** Opens the payment gateway's memory, then starts the bus. */
  start(): ReturnType<Bus['start']>
  stop(): Promise<void>
  /** The order as each module knows it (undefined when no module knows it). */
  order(orderId: string): Promise<OrderView | undefined>
  /** Sales' orders, newest first, a page at a time (from Sales' process when it runs elsewhere; undefined if it does not answer). */
  orders(options: { cursor?: string; limit: number }): Promise<{ items: OrderSummary[]; next?: string } | undefined>
  /** The simulated gateway's counts, when Billing runs in this process. */
  gateway(): GatewayCounts | undefined
  /** How often the simulated gateway charged the order, when Billing runs in this process. */
  timesCharged(orderId: string): number | undefined
}

/** The modules src/shop-modules.ts lists beside the shop's own three: each must be a defineModule(...) result. */
function addedModules(added: Record<string, unknown>): ModuleDefinition[] {
  return Object.entries(added).map(([name, module]) => {
    const candidate = module as Partial<ModuleDefinition> | undefined
    if (typeof candidate?.name !== 'string' || !Array.isArray(candidate.handlers)) {
      throw new ShopModuleInvalidError(name)
    }
    return candidate as ModuleDefinition
  })
}

interface RemotePage {
  items: { key: string; doc: Order }[]
  next?: string
}

/** The view key of a page of Sales' orders: `@orders-page:<cursor>:<limit>`. */
const pageKeyPattern = /^@orders-page:(\d*):(\d+)$/

/** The shop's modules, the central routes table and the bus: what `npm start` and the tests run. */
export function createShop(options: ShopOptions = {}): Shop {
  const { recoverability, gatewayLimitPerSecond, billingMaxPerSecond, buyersRemorseMs, billingWaitMs, consoleLink, postgres, ...busOptions } = options
  const prefix = postgres?.prefix ?? 'mailroom'
  const shared = recoverability ? { recoverability } : {}
  const { sales: createSales, billing: createBilling, shipping: createShipping, ...added } = shopModules
  const sales = createSales({ ...shared, ...(buyersRemorseMs !== undefined ? { buyersRemorseMs } : {}) })
  const billing = createBilling({
    ...shared,
    ...('gatewayLimitPerSecond' in options ? { gatewayLimitPerSecond } : {}),
    ...('billingMaxPerSecond' in options ? { maxPerSecond: billingMaxPerSecond } : {}),
  })
  const shipping = createShipping({ ...shared, ...(billingWaitMs !== undefined ? { billingWaitMs } : {}) })
  /** A page of Sales' orders, newest first: for the console here, and as a view for a console in another process. */
  const salesPage = async (cursor: string | undefined, limit: number): Promise<RemotePage> => {
    const page = await bus.table(sales.Orders).list({ order: 'newest', limit, ...(cursor ? { cursor } : {}) })
    return page.next === undefined ? { items: page.items } : { items: page.items, next: page.next }
  }
  const views = {
    sales: async (key: string) => {
      const page = pageKeyPattern.exec(key)
      return page ? salesPage(page[1] || undefined, Number(page[2])) : salesView(await bus.table(sales.Orders).get(key))
    },
    billing: async (orderId: string) => billingView(await bus.table(billing.Charges).get(orderId)),
    shipping: async (orderId: string) => shippingView(await bus.table(shipping.Shipments).get(orderId)),
  }
  // The console draws conversations from the audit: on unless the caller says otherwise.
  const modules = [sales.module, billing.module, shipping.module, ...addedModules(added)]
  // The console's "Inject fault" and the chaos runs' fault rate come from fault injection; a handler
  // slower than a second says so in its module's log.
  const behaviors = [faultInjection(), warnWhenSlow(1_000), ...(busOptions.behaviors ?? [])]
  const bus: Bus = createBus({
    audit: true,
    ...busOptions,
    ...(postgres ? { persistence: postgresPersistence({ connectionString: postgres.url, prefix, ...(postgres.takeOverAfterMs !== undefined ? { takeOverAfterMs: postgres.takeOverAfterMs } : {}) }) } : {}),
    behaviors,
    modules,
    routes: { PlaceOrder: 'sales', CancelOrder: 'sales' },
    ...(consoleLink ? { consoleLink: consoleLink(views) } : {}),
  })
  const runsHere = (module: string) => bus.moduleNames.includes(module)
  // A module whose data is not read here (another process's journal) reports its view of the orders the console shows.
  const viewOf = async (module: keyof typeof views, orderId: string): Promise<Record<string, unknown>> =>
    ((bus.holdsDataOf(module) ? await views[module](orderId) : bus.admin.view(module, orderId)) as Record<string, unknown> | undefined) ?? {}
  /** The gateway's memory when every Billing instance shares it (PostgreSQL); its pool ends with the shop. */
  let gatewayPool: pg.Pool | undefined

  /**
   * Sales in another process: the page as its process last reported it. Asking starts the reports; the
   * first answer comes with the next one (a second), waited for here up to 5 s.
   */
  async function remotePage(cursor: string | undefined, limit: number): Promise<RemotePage | undefined> {
    const key = `@orders-page:${cursor ?? ''}:${limit}`
    for (let waited = 0; ; waited += 250) {
      const page = bus.admin.view('sales', key) as RemotePage | undefined
      if (page || waited >= 5_000) return page
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }

  async function order(orderId: string): Promise<OrderView | undefined> {
    const [salesSide, billingSide, shippingSide] = await Promise.all([viewOf('sales', orderId), viewOf('billing', orderId), viewOf('shipping', orderId)])
    const known = salesSide.placed || salesSide.inWindow || salesSide.cancelled || billingSide.billed || shippingSide.placed || shippingSide.billed
    if (!known) return undefined
    const view: OrderView = { orderId, sales: salesSide, billing: billingSide, shipping: shippingSide }
    if (typeof salesSide.conversationId === 'string') view.conversationId = salesSide.conversationId
    return view
  }

  async function summary(key: string, doc: Order): Promise<OrderSummary> {
    const [billingSide, shippingSide] = await Promise.all([viewOf('billing', key), viewOf('shipping', key)])
    return {
      orderId: key,
      conversationId: doc.conversationId,
      receivedAt: doc.receivedAt,
      sales: doc.status,
      placed: doc.status === 'placed',
      billed: billingSide.billed === true,
      shipped: shippingSide.shipped === true,
      delayed: shippingSide.delayed === true,
    }
  }

  return {
    bus,
    async start() {
      // The gateway plays an outside service: it keeps what it remembers in a folder of its own, or in a
      // schema of its own that every Billing instance shares.
      if (runsHere('billing') && postgres) {
        // Errors of idle or checked-out connections are the next query's to report (and the bus's to retry).
        gatewayPool ??= new pg.Pool({ connectionString: postgres.url, max: 4 }).on('error', () => {}).on('connect', (client) => void client.on('error', () => {}))
        try {
          await billing.gateway.open({ shared: await openSharedGatewayMemory(gatewayPool, `${prefix}_payment_gateway`) })
        } catch (error) {
          // A database that does not answer yet: the same error as the bus's own, so `npm start` waits for it.
          throw asPersistenceError(error, postgresAddress(postgres.url))
        }
      } else if (runsHere('billing')) await billing.gateway.open({ fileSystem: bus.fileSystem, dir: join(bus.dataDir, 'payment-gateway') })
      return bus.start()
    },
    async stop() {
      await bus.stop()
      await billing.gateway.close()
      await gatewayPool?.end()
      gatewayPool = undefined
    },
    order,
    async orders({ cursor, limit }) {
      const page = bus.holdsDataOf('sales') ? await salesPage(cursor, limit) : await remotePage(cursor, limit)
      if (!page) return undefined
      const items = await Promise.all(page.items.map(({ key, doc }) => summary(key, doc)))
      return page.next === undefined ? { items } : { items, next: page.next }
    },
    gateway: () => (runsHere('billing') ? { charged: billing.gateway.charged, duplicates: billing.gateway.duplicates, chargedTwice: billing.gateway.chargedTwice } : undefined),
    timesCharged: (orderId) => (runsHere('billing') ? billing.gateway.timesCharged(orderId) : undefined),
  }
}
