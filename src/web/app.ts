import { randomUUID } from 'node:crypto'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { Bus } from '../bus/index.js'
import { CancelOrder, PlaceOrder } from '../modules/sales/messages.js'
import { createComparison, type ComparisonOptions } from '../demos/rainy-day/comparison.js'
import { chainSettings } from '../demos/rainy-day/sync-chain.js'
import { mailroomConsole } from './console-plugin.js'
import type { OrderSummary, ShopContext, ShopReads } from './shop-context.js'
import { handleError } from './error-handler.js'
import { ConflictError, InvalidRequestError, NotFoundError } from './errors.js'
import { listeningUrl } from './listening-url.js'
import { renderFragment } from './render.js'
import { createRecentOrders } from './observers/recent-orders.js'
import { registerSecurity } from './plugins/security.js'
import { requireSameOriginJson } from './plugins/same-origin-json.js'
import { gatewayRoutes } from './routes/api/gateway.js'
import { orderRoutes } from './routes/api/orders.js'
import { rainyDayRoutes } from './routes/api/rainy-day.js'
import { serveAssets } from './routes/assets.js'
import { shopActionRoutes } from './routes/shop-actions.js'
import { shopLinks, shopPageRoutes } from './routes/shop-pages.js'

export interface AppOptions extends ShopReads {
  bus: Bus
  /** The app's pino logger (the shop's, which its bus writes to too); without one the app logs nothing. */
  logger?: FastifyBaseLogger
  /** @default 1000 */
  maxBatch?: number
  /** Sample metrics this often. @default 1000 */
  metricsIntervalMs?: number
  /** A live-stream client with more than this many bytes waiting has stopped reading and is dropped. @default 1 MiB */
  streamMaxBufferedBytes?: number
  /**
   * Live-stream clients at once; one more is refused with 503 and `Retry-After` (each costs a snapshot
   * four times a second).
   * @default 100
   */
  streamMaxClients?: number
  /** The rainy-day comparison: the synchronous chain's settings, how long the messaging side may take to ship. */
  rainyDay?: ComparisonOptions
  /** A trace viewer's address with `{traceId}` (MAILROOM_TRACE_URL): the log panels' lines link to their traces. */
  traceUrl?: string
}

const defaultItems = ['Mailroom T-shirt']
const ordersShown = 20

/**
 * Builds the shop's web app: its own pages and API (placing orders, the order list, the rainy day) and the
 * console (src/web/console-plugin.ts) mounted beside them at the root. Never listens (fastify's testing
 * guide): tests call `app.inject()`, src/main.ts calls `listen`.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    // A line per request would bury the handlers' lines on the terminal (the console asks often); the error
    // handler still logs every 5xx.
    ...(options.logger ? { loggerInstance: options.logger, logController: new LogController({ disableRequestLogging: true }) } : { logger: false }),
    bodyLimit: 64 * 1024,
    // Unknown fields are refused (400), not silently dropped: a typo should not pass for a valid request.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  })
  const { bus } = options
  const recentOrders = createRecentOrders()
  const shop: ShopContext = {
    bus,
    order: (orderId) => options.order(orderId),
    orders: (page) => options.orders(page),
    gateway: () => options.gateway(),
    timesCharged: (orderId) => options.timesCharged(orderId),
    async orderPage(page) {
      const fromData = await options.orders(page)
      if (fromData && page.cursor) return fromData
      // The first page also shows orders placed here that Sales has not received yet (it may be stopped:
      // the messages wait in its queue), and when Sales runs in another process, all orders placed here.
      const listed = new Set(fromData?.items.map((item) => item.orderId))
      const waiting: OrderSummary[] = []
      for (const order of recentOrders.list(page.limit)) {
        if (listed.has(order.orderId)) continue
        const view = await options.order(order.orderId)
        if (fromData && view) continue
        const sales = view?.sales ?? {}
        waiting.push({
          orderId: order.orderId,
          conversationId: order.conversationId,
          receivedAt: order.at,
          sales: sales.inWindow ? 'in-window' : sales.cancelled ? 'cancelled' : sales.placed ? 'placed' : 'unknown',
          placed: sales.placed === true,
          billed: view?.billing.billed === true,
          shipped: view?.shipping.shipped === true,
          delayed: view?.shipping.delayed === true,
        })
      }
      if (!fromData) return { items: waiting }
      if (waiting.length === 0) return fromData
      // Not cut back to the limit: the cursor continues after the last order of the data page.
      const items = [...waiting, ...fromData.items].sort((a, b) => b.receivedAt - a.receivedAt)
      return fromData.next === undefined ? { items } : { items, next: fromData.next }
    },
    recentOrders,
    comparison: createComparison(
      {
        ordersUrl: () => `${listeningUrl(app)}/api/orders`,
        shipped: async (orderId) => (await options.order(orderId))?.shipping.shipped === true,
        timesCharged: (orderId) => options.timesCharged(orderId),
        isRunning: (service) => bus.admin.module(service).running,
        setStopped: (service, stopped) => (stopped ? bus.admin.stopModule(service) : bus.admin.startModule(service)),
      },
      options.rainyDay,
    ),
    rainyDayChain: chainSettings(options.rainyDay?.chain),
    maxBatch: options.maxBatch ?? 1_000,
    async placeOrder(items) {
      const orderId = `ord-${randomUUID().slice(0, 8)}`
      const sent = await bus.send(PlaceOrder, { orderId, items: items ?? defaultItems })
      recentOrders.add({ orderId, conversationId: sent.conversationId, at: Date.now() })
      return { orderId, messageId: sent.messageId, conversationId: sent.conversationId }
    },
    async placeOrders(count) {
      if (!Number.isInteger(count) || count < 1 || count > shop.maxBatch) throw new InvalidRequestError(`body/count must be between 1 and ${shop.maxBatch}`)
      const placed = await Promise.all(Array.from({ length: count }, () => shop.placeOrder(undefined)))
      return { orderIds: placed.map((order) => order.orderId) }
    },
    async cancelOrder(orderId) {
      const sales = (await options.order(orderId))?.sales ?? {}
      if (!sales.inWindow && !sales.placed && !sales.cancelled) throw new NotFoundError('order', orderId)
      if (!sales.inWindow) throw new ConflictError(`Order '${orderId}' can no longer be cancelled: it is ${sales.cancelled ? 'already cancelled' : 'placed'}.`)
      const sent = await bus.send(CancelOrder, { orderId })
      return { orderId, messageId: sent.messageId }
    },
  }
  app.decorate('shop', shop)
  app.addHook('onClose', async () => {
    await shop.comparison.close()
  })

  app.setErrorHandler(handleError)
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ statusCode: 404, code: 'MAILROOM_ERR_WEB_NOT_FOUND', error: 'Not Found', message: `No route ${request.method} ${request.url.split('?')[0]}` })
  })
  await registerSecurity(app)

  // What the shop adds to the console's live snapshots: the newest orders and the gateway's counts.
  const snapshotExtras = async () => {
    const orders = (await shop.orderPage({ limit: ordersShown })).items
    return { orders, ordersHtml: renderFragment('order-rows', { orders, base: '' }), gateway: shop.gateway() }
  }
  await app.register(async (api) => {
    api.addHook('onRequest', requireSameOriginJson)
    await api.register(orderRoutes)
    await api.register(gatewayRoutes)
    await api.register(rainyDayRoutes)
  }, { prefix: '/api' })
  await app.register(shopActionRoutes, { prefix: '/actions' })
  await app.register(shopPageRoutes, { snapshotExtras, traceUrl: options.traceUrl })
  await app.register(async (assets) => serveAssets(assets, ['rainy-day.js']), { prefix: '/assets' })
  await app.register(mailroomConsole, {
    bus,
    home: false,
    links: shopLinks,
    snapshotExtras,
    ...(options.traceUrl !== undefined ? { traceUrl: options.traceUrl } : {}),
    ...(options.metricsIntervalMs !== undefined ? { metricsIntervalMs: options.metricsIntervalMs } : {}),
    ...(options.streamMaxBufferedBytes !== undefined ? { streamMaxBufferedBytes: options.streamMaxBufferedBytes } : {}),
    ...(options.streamMaxClients !== undefined ? { streamMaxClients: options.streamMaxClients } : {}),
  })
  return app
}
