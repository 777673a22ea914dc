import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { groupFailures, searchFailures } from '../failed-groups.js'
import { layoutSequence } from '../sequence-diagram.js'
import { ConversationParams } from './api/conversations.js'
import { rainyDayState } from './api/rainy-day.js'
import { snapshot } from './api/stream.js'

/** The console's pages, rendered on the server (Eta escapes every value by default). */
export async function pageRoutes(app: FastifyInstance): Promise<void> {
  const shop = app.console
  const { admin } = shop.bus

  app.get('/', async (_request, reply) => {
    const csrfToken = await reply.generateCsrf()
    const now = await snapshot(shop, [])
    const logs = Object.fromEntries(shop.bus.admin.moduleNames().map((name) => [name, admin.logs(name).slice(-12)]))
    return reply.view('shop.eta', { title: 'Shop', page: 'shop', csrfToken, snapshot: now, logs, maxBatch: shop.maxBatch, transportText: describeTransport(now.transport) })
  })

  app.get('/failed', { schema: { querystring: Type.Object({ q: Type.Optional(Type.String({ maxLength: 200 })), done: Type.Optional(Type.String({ maxLength: 200 })) }) } }, async (request, reply) => {
    const { q = '', done } = request.query as { q?: string; done?: string }
    const csrfToken = await reply.generateCsrf()
    const matching = searchFailures(admin.failedMessages(), q)
    const schedules = shop.bus.admin.moduleNames().map((name) => ({ name, text: admin.retrySchedule(name).text }))
    return reply.view('failed.eta', {
      title: 'Failed messages',
      page: 'failed',
      csrfToken,
      q,
      done,
      groups: groupFailures(matching),
      total: matching.length,
      schedules,
    })
  })

  app.get('/conversations/:id', { schema: { params: ConversationParams } }, async (request, reply) => {
    const { id } = request.params as { id: string }
    const steps = await shop.conversations.get(id)
    if (!steps) return reply.code(404).view('not-found.eta', { title: 'Not found', page: '', what: `conversation ${id}` })
    return reply.view('conversation.eta', { title: 'Conversation', page: '', id, diagram: layoutSequence(steps, shop.bus.admin.moduleNames()), steps })
  })

  app.get('/orders', { schema: { querystring: Type.Object({ cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })) }, { additionalProperties: false }) } }, async (request, reply) => {
    const { cursor } = request.query as { cursor?: string }
    const page = await shop.orderPage({ limit: ordersPerPage, ...(cursor ? { cursor } : {}) })
    return reply.view('orders.eta', { title: 'All orders', page: 'orders', limit: ordersPerPage, cursor, orders: page })
  })

  app.get('/monitoring', async (_request, reply) => {
    return reply.view('monitoring.eta', { title: 'Monitoring', page: 'monitoring', modules: admin.modules(), history: shop.metrics.history() })
  })

  app.get('/rainy-day', async (_request, reply) => {
    const csrfToken = await reply.generateCsrf()
    return reply.view('rainy-day.eta', { title: 'Rainy day', page: 'rainy-day', csrfToken, state: rainyDayState(shop) })
  })

}

const ordersPerPage = 50

/** One line for people: how messages travel (the page script keeps it current with the same words). */
export function describeTransport(transport: { kind: string; state: string; address: string; unconfirmed: number }): string {
  if (transport.kind === 'embedded') return 'Transport: embedded, every module in this process'
  const waiting = transport.unconfirmed > 0 ? `, ${transport.unconfirmed} waiting for the broker` : ''
  return `Transport: RabbitMQ at ${transport.address}, ${transport.state}${waiting}`
}
