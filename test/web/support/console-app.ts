import type { FastifyInstance } from 'fastify'
import { createShop, type Shop, type ShopOptions } from '../../../src/shop.js'
import type { ComparisonOptions } from '../../../src/demos/rainy-day/comparison.js'
import { buildApp } from '../../../src/web/app.js'

export interface ConsoleUnderTest {
  shop: Shop
  app: FastifyInstance
  close(): Promise<void>
}

/** The whole shop in memory with fast retries, and its console; `listen` for a browser, or `inject`. */
export async function startConsole(options: ShopOptions & { listen?: boolean; maxBatch?: number; streamMaxBufferedBytes?: number; streamMaxClients?: number; rainyDay?: ComparisonOptions; traceUrl?: string } = {}): Promise<ConsoleUnderTest & { url: string }> {
  const { listen, maxBatch, streamMaxBufferedBytes, streamMaxClients, rainyDay, traceUrl, ...shopOptions } = options
  const shop = createShop({
    storage: 'memory',
    recoverability: { immediateRetries: 1, delayedRetries: { count: 1, baseDelayMs: 50 } },
    // Orders flow at once unless a test opens the buyer's-remorse window.
    buyersRemorseMs: 0,
    ...shopOptions,
  })
  await shop.start()
  const app = await buildApp({ bus: shop.bus, order: shop.order, orders: shop.orders, gateway: shop.gateway, timesCharged: shop.timesCharged, rainyDay: { ...rainyDay, chain: { ...(shopOptions.gatewayLimitPerSecond !== undefined ? { gatewayLimitPerSecond: shopOptions.gatewayLimitPerSecond } : {}), ...rainyDay?.chain } }, metricsIntervalMs: 250, ...(maxBatch ? { maxBatch } : {}), ...(streamMaxBufferedBytes ? { streamMaxBufferedBytes } : {}), ...(streamMaxClients ? { streamMaxClients } : {}), ...(traceUrl ? { traceUrl } : {}) })
  const url = listen ? await app.listen({ host: '127.0.0.1', port: 0 }) : 'http://localhost'
  return {
    shop,
    app,
    url,
    async close() {
      await app.close()
      await shop.stop()
    },
  }
}

/** A CSRF token and its cookie, as a browser gets them from a page. */
export async function formSession(app: FastifyInstance): Promise<{ token: string; cookie: string }> {
  const page = await app.inject({ method: 'GET', url: '/' })
  const token = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1]
  const cookie = page.cookies.map((c) => `${c.name}=${c.value}`).join('; ')
  if (!token || !cookie) throw new Error('the shop page has no CSRF token')
  return { token, cookie }
}
