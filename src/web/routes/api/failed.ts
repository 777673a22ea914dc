import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { groupFailures, searchFailures } from '../../failed-groups.js'

const Ids = Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 10_000 })

export const RetryBody = Type.Union([
  Type.Object({ ids: Ids }, { additionalProperties: false }),
  Type.Object({ group: Type.String({ pattern: '^[0-9a-f]{16}$' }) }, { additionalProperties: false }),
  Type.Object({ all: Type.Literal(true) }, { additionalProperties: false }),
])

/** The error queue, grouped by cause, with retry and delete. */
export async function failedRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const shop = app.console
  const { admin } = shop.bus

  app.get('/failed', { schema: { querystring: Type.Object({ q: Type.Optional(Type.String({ maxLength: 200 })) }) } }, async (request) => {
    const { q } = request.query
    const schedules = Object.fromEntries(shop.bus.admin.moduleNames().map((name) => [name, admin.retrySchedule(name)]))
    return { groups: groupFailures(searchFailures(admin.failedMessages(), q ?? '')), schedules }
  })

  app.post('/failed/retry', { schema: { body: RetryBody } }, async (request) => shop.operations.retryFailed(request.body))

  app.post('/failed/delete', { schema: { body: Type.Object({ ids: Ids }, { additionalProperties: false }) } }, async (request) =>
    shop.operations.deleteFailed(request.body.ids),
  )
}
