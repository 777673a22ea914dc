import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { settingsOf, SidesChoice, startRainyDay, StopChoice } from './api/rainy-day.js'
import { formDone, guardForms } from './console-actions.js'

const Csrf = { _csrf: Type.String({ minLength: 1, maxLength: 200 }) }

/** The shop's HTML forms: place orders, cancel one, run the rainy day. POST with a CSRF token, then back to the page. */
export async function shopActionRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { shop } = app
  guardForms(app)

  app.post('/orders', { schema: { body: Type.Object({ ...Csrf }, { additionalProperties: false }) } }, async (request, reply) =>
    formDone(request, reply, '/', await shop.placeOrder(undefined)),
  )

  app.post(
    '/orders/batch',
    { schema: { body: Type.Object({ ...Csrf, count: Type.String({ pattern: '^[0-9]{1,5}$' }) }, { additionalProperties: false }) } },
    async (request, reply) => {
      return formDone(request, reply, '/', await shop.placeOrders(Number(request.body.count)))
    },
  )

  app.post(
    '/orders/:id/cancel',
    { schema: { params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) }), body: Type.Object({ ...Csrf }, { additionalProperties: false }) } },
    async (request, reply) => formDone(request, reply, '/', await shop.cancelOrder(request.params.id)),
  )

  // A form's fields are text: the patterns give the ranges, the same as the JSON API's.
  app.post(
    '/rainy-day',
    {
      schema: {
        body: Type.Object(
          {
            ...Csrf,
            orders: Type.String({ pattern: '^[0-9]{1,4}$' }),
            clients: Type.String({ pattern: '^[0-9]{1,3}$' }),
            stop: StopChoice,
            sides: SidesChoice,
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const body = request.body
      return formDone(request, reply, '/rainy-day', startRainyDay(app, settingsOf({ orders: Number(body.orders), clients: Number(body.clients), stop: body.stop, sides: body.sides })))
    },
  )
}
