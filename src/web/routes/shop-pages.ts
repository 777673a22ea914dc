import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { ConsoleLink } from '../context.js'
import { consoleNav, renderPage } from '../render.js'
import { rainyDayState } from './api/rainy-day.js'
import { panelsData } from './console-pages.js'

/** The shop's pages in the console's menu, before the console's own. */
export const shopLinks: readonly ConsoleLink[] = [
  { href: '/', label: 'Shop & modules', page: 'shop' },
  { href: '/orders', label: 'Orders', page: 'orders' },
  { href: '/rainy-day', label: 'Rainy day', page: 'rainy-day' },
]

const ordersPerPage = 50

/** The shop's own pages, beside the console (mounted at the root: its base is ''). */
export async function shopPageRoutes(fastify: FastifyInstance, options: { snapshotExtras: () => Promise<Record<string, unknown>>; traceUrl?: string | undefined }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { shop } = app
  const nav = consoleNav({ base: '', home: false, links: shopLinks })
  const page = (title: string, name: string) => ({ title, page: name, base: '', nav, readOnly: false })

  app.get('/', async (_request, reply) => {
    const csrfToken = await reply.generateCsrf()
    return renderPage(reply, 'shop', { ...page('Shop', 'shop'), csrfToken, maxBatch: shop.maxBatch, ...(await panelsData(shop.bus, options.snapshotExtras, options.traceUrl)) })
  })

  app.get('/orders', { schema: { querystring: Type.Object({ cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })) }, { additionalProperties: false }) } }, async (request, reply) => {
    const { cursor } = request.query
    const orders = await shop.orderPage({ limit: ordersPerPage, ...(cursor ? { cursor } : {}) })
    return renderPage(reply, 'orders', { ...page('All orders', 'orders'), limit: ordersPerPage, cursor, orders })
  })

  app.get('/rainy-day', async (_request, reply) => {
    const csrfToken = await reply.generateCsrf()
    return renderPage(reply, 'rainy-day', { ...page('Rainy day', 'rainy-day'), scripts: ['/assets/rainy-day.js'], csrfToken, state: rainyDayState(shop) })
  })
}
