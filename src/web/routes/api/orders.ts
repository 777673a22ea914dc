import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { NotFoundError } from '../../errors.js'

const Items = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: 50 })
const OrderId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' })
/** The `next` of an earlier page. */
const Cursor = Type.String({ pattern: '^[0-9]{1,15}$' })
/** 1 to 200 (a query string is text: the pattern says the range, so a 400 names the field). */
const Limit = Type.String({ pattern: '^(?:[1-9]|[1-9][0-9]|1[0-9][0-9]|200)$' })

/** Place orders and read them back as each module knows them. */
export async function orderRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { shop } = app

  app.post('/orders', { schema: { body: Type.Object({ items: Type.Optional(Items) }, { additionalProperties: false }) } }, async (request, reply) => {
    const { items } = request.body
    reply.code(202)
    return shop.placeOrder(items)
  })

  app.post(
    '/orders/batch',
    { schema: { body: Type.Object({ count: Type.Integer({ minimum: 1, maximum: shop.maxBatch }) }, { additionalProperties: false }) } },
    async (request, reply) => {
      const placed = await shop.placeOrders(request.body.count)
      reply.code(202)
      return placed
    },
  )

  app.post('/orders/:id/cancel', { schema: { params: Type.Object({ id: OrderId }) } }, async (request, reply) => {
    const { id } = request.params
    reply.code(202)
    return shop.cancelOrder(id)
  })

  app.get(
    '/orders',
    { schema: { querystring: Type.Object({ cursor: Type.Optional(Cursor), limit: Type.Optional(Limit) }, { additionalProperties: false }) } },
    async (request) => {
      const { cursor, limit = '50' } = request.query
      return shop.orderPage({ limit: Number(limit), ...(cursor ? { cursor } : {}) })
    },
  )

  app.get('/orders/:id', { schema: { params: Type.Object({ id: OrderId }) } }, async (request) => {
    const { id } = request.params
    const view = await shop.order(id)
    if (!view) throw new NotFoundError('order', id)
    return view
  })
}
