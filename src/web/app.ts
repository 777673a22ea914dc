import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import fastifyView from '@fastify/view'
import { Eta } from 'eta'
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify'
import { MailroomError, type Bus } from '../bus/index.js'
import { CancelOrder, PlaceOrder } from '../modules/sales/messages.js'
import { createComparison, type ComparisonOptions } from '../rainy-day/comparison.js'
import { chainSettings } from '../rainy-day/sync-chain.js'
import type { ConsoleContext, OrderSummary, ShopReads } from './context.js'
import { ConflictError, InternalServerError, NotFoundError, WebError } from './errors.js'
import { createConversationLog } from './observers/conversation-log.js'
import { createMetricsSampler } from './observers/metrics-sampler.js'
import { listeningUrl } from './listening-url.js'
import { createRecentOrders } from './observers/recent-orders.js'
import { registerSecurity } from './plugins/security.js'
import { requireSameOriginJson } from './plugins/same-origin-json.js'
import { actionRoutes } from './routes/actions.js'
import { assetRoutes } from './routes/assets.js'
import { conversationRoutes } from './routes/api/conversations.js'
import { failedRoutes } from './routes/api/failed.js'
import { gatewayRoutes } from './routes/api/gateway.js'
import { moduleRoutes } from './routes/api/modules.js'
import { orderRoutes } from './routes/api/orders.js'
import { rainyDayRoutes } from './routes/api/rainy-day.js'
import { streamRoutes } from './routes/api/stream.js'
import { metricsRoutes } from './routes/metrics.js'
import { pageRoutes } from './routes/pages.js'

export interface AppOptions extends ShopReads {
  bus: Bus
  logger?: boolean
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
}

const defaultItems = ['Mailroom T-shirt']

/**
 * Builds the console: pages, JSON API and live stream over a running bus. Never listens (fastify's
 * testing guide): tests call `app.inject()`, src/main.ts calls `listen`.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: 64 * 1024,
    // Unknown fields are refused (400), not silently dropped: a typo should not pass for a valid request.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  })
  const { bus } = options
  const recentOrders = createRecentOrders()
  const context: ConsoleContext = {
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
    conversations: createConversationLog(bus),
    metrics: createMetricsSampler(bus, options.metricsIntervalMs === undefined ? {} : { intervalMs: options.metricsIntervalMs }),
    maxBatch: options.maxBatch ?? 1_000,
    stream: { maxBufferedBytes: options.streamMaxBufferedBytes ?? 1024 * 1024, maxClients: options.streamMaxClients ?? 100, clients: 0, dropped: 0, refused: 0 },
    async placeOrder(items) {
      const orderId = `ord-${randomUUID().slice(0, 8)}`
      const sent = await bus.send(PlaceOrder, { orderId, items: items ?? defaultItems })
      recentOrders.add({ orderId, conversationId: sent.conversationId, at: Date.now() })
      return { orderId, messageId: sent.messageId, conversationId: sent.conversationId }
    },
    async cancelOrder(orderId) {
      const sales = (await options.order(orderId))?.sales ?? {}
      if (!sales.inWindow && !sales.placed && !sales.cancelled) throw new NotFoundError('order', orderId)
      if (!sales.inWindow) throw new ConflictError(`Order '${orderId}' can no longer be cancelled: it is ${sales.cancelled ? 'already cancelled' : 'placed'}.`)
      const sent = await bus.send(CancelOrder, { orderId })
      return { orderId, messageId: sent.messageId }
    },
  }
  app.decorate('console', context)
  app.addHook('onClose', async () => {
    await context.comparison.close()
    context.metrics.stop()
    context.conversations.stop()
  })

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { statusCode, body } = describeError(error)
    if (statusCode >= 500) request.log.error(error)
    // A full or failing disk, a bus not yet started, a full live stream: worth trying again shortly.
    if (statusCode === 503) reply.header('retry-after', body.code === 'MAILROOM_ERR_WEB_TOO_MANY_STREAMS' ? '5' : '1')
    reply.code(statusCode).send(body)
  })
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ statusCode: 404, code: 'MAILROOM_ERR_WEB_NOT_FOUND', error: 'Not Found', message: `No route ${request.method} ${request.url.split('?')[0]}` })
  })

  await registerSecurity(app)
  await app.register(fastifyView, {
    engine: { eta: new Eta() },
    root: fileURLToPath(new URL('../../views', import.meta.url)),
    layout: 'layout.eta',
    viewExt: 'eta',
  })

  await app.register(async (api) => {
    api.addHook('onRequest', requireSameOriginJson)
    await api.register(orderRoutes)
    await api.register(moduleRoutes)
    await api.register(failedRoutes)
    await api.register(conversationRoutes)
    await api.register(gatewayRoutes)
    await api.register(streamRoutes)
    await api.register(rainyDayRoutes)
  }, { prefix: '/api' })
  await app.register(pageRoutes)
  await app.register(actionRoutes, { prefix: '/actions' })
  await app.register(metricsRoutes)
  await app.register(assetRoutes, { prefix: '/assets' })
  return app
}

const statusOfCode: Partial<Record<string, number>> = {
  MAILROOM_ERR_MESSAGE_INVALID: 400,
  MAILROOM_ERR_MODULE_NOT_FOUND: 404,
  MAILROOM_ERR_BUS_NOT_STARTED: 503,
  MAILROOM_ERR_JOURNAL_WRITE_FAILED: 503,
}

/** One place maps errors to HTTP: a 400 names the field, every JSON body keeps its MAILROOM_ERR_* code. */
export function describeError(error: FastifyError): { statusCode: number; body: Record<string, unknown> } {
  const make = (statusCode: number, code: string, message: string) => ({
    statusCode,
    body: { statusCode, code, error: statusText(statusCode), message },
  })
  if (error.validation) return make(400, 'MAILROOM_ERR_WEB_INVALID_REQUEST', error.message)
  if (error instanceof WebError) return make(error.statusCode, error.code, error.message)
  if (error.code === 'FST_CSRF_INVALID_TOKEN' || error.code === 'FST_CSRF_MISSING_SECRET') {
    return make(403, 'MAILROOM_ERR_WEB_CSRF', 'The form had no valid CSRF token. Reload the page and try again.')
  }
  if (error instanceof MailroomError) return make(statusOfCode[error.code] ?? 500, error.code, error.message)
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return make(error.statusCode, error.statusCode === 415 ? 'MAILROOM_ERR_WEB_UNSUPPORTED_MEDIA_TYPE' : 'MAILROOM_ERR_WEB_INVALID_REQUEST', error.message)
  }
  const internal = new InternalServerError()
  return make(internal.statusCode, internal.code, internal.message)
}

function statusText(statusCode: number): string {
  return { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 503: 'Service Unavailable' }[statusCode] ?? (statusCode >= 500 ? 'Internal Server Error' : 'Error')
}
