import { Type, type Static } from '@sinclair/typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { InvalidRequestError, NotFoundError } from '../errors.js'
import { rejectCrossOrigin } from '../plugins/same-origin-json.js'
import { rainyDayLimits, settingsOf, SidesChoice, startRainyDay, StopChoice } from './api/rainy-day.js'

const Csrf = { _csrf: Type.String({ minLength: 1, maxLength: 200 }) }
const ModuleParams = Type.Object({ name: Type.String({ pattern: '^[a-z][a-z0-9-]{0,62}$' }) })
/** One id per checkbox; a form with one checked box sends a string, with several an array. */
const IdList = Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 10_000 })])
const asList = (value: string | string[] | undefined) => (value === undefined ? [] : Array.isArray(value) ? value : [value])

/**
 * The console's HTML forms (they work without JavaScript): POST with a CSRF token, then back to the
 * page (303). The page's script submits the same forms with fetch and asks for JSON instead.
 */
export async function actionRoutes(app: FastifyInstance): Promise<void> {
  const shop = app.console
  const { admin } = shop.bus
  app.addHook('onRequest', async (request) => rejectCrossOrigin(request))
  // After the body is parsed (the token is in it), before the schema: a missing token is a 403, not a 400.
  app.addHook('preValidation', app.csrfProtection)

  const done = (request: FastifyRequest, reply: FastifyReply, back: string, result: unknown) => {
    if (request.headers.accept?.includes('application/json')) return reply.send(result)
    return reply.redirect(back, 303)
  }
  const requireModule = (name: string) => {
    if (!shop.bus.admin.moduleNames().includes(name)) throw new NotFoundError('module', name)
    return name
  }

  app.post('/orders', { schema: { body: Type.Object({ ...Csrf }, { additionalProperties: false }) } }, async (request, reply) =>
    done(request, reply, '/', await shop.placeOrder(undefined)),
  )

  app.post(
    '/orders/batch',
    { schema: { body: Type.Object({ ...Csrf, count: Type.String({ pattern: '^[0-9]{1,5}$' }) }, { additionalProperties: false }) } },
    async (request, reply) => {
      const count = Number((request.body as { count: string }).count)
      if (count < 1 || count > shop.maxBatch) throw new InvalidRequestError(`body/count must be between 1 and ${shop.maxBatch}`)
      const placed = await Promise.all(Array.from({ length: count }, () => shop.placeOrder(undefined)))
      return done(request, reply, '/', { orderIds: placed.map((order) => order.orderId) })
    },
  )

  app.post(
    '/orders/:id/cancel',
    { schema: { params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) }), body: Type.Object({ ...Csrf }, { additionalProperties: false }) } },
    async (request, reply) => done(request, reply, '/', await shop.cancelOrder((request.params as { id: string }).id)),
  )

  app.post('/modules/:name/:action', { schema: { params: Type.Object({ ...ModuleParams.properties, action: Type.Union([Type.Literal('stop'), Type.Literal('start'), Type.Literal('fault-on'), Type.Literal('fault-off')]) }), body: Type.Object({ ...Csrf }, { additionalProperties: false }) } }, async (request, reply) => {
    const { name, action } = request.params as { name: string; action: 'stop' | 'start' | 'fault-on' | 'fault-off' }
    requireModule(name)
    if (action === 'stop') admin.stopModule(name)
    else if (action === 'start') admin.startModule(name)
    else admin.setFault(name, action === 'fault-on')
    return done(request, reply, '/', admin.module(name))
  })

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
      const body = request.body as { orders: string; clients: string; stop: Static<typeof StopChoice>; sides: Static<typeof SidesChoice> }
      const orders = Number(body.orders)
      const clients = Number(body.clients)
      if (orders < 1 || orders > rainyDayLimits.maxOrders) throw new InvalidRequestError(`body/orders must be between 1 and ${rainyDayLimits.maxOrders}`)
      if (clients < 1 || clients > rainyDayLimits.maxClients) throw new InvalidRequestError(`body/clients must be between 1 and ${rainyDayLimits.maxClients}`)
      return done(request, reply, '/rainy-day', startRainyDay(app, settingsOf({ orders, clients, stop: body.stop, sides: body.sides })))
    },
  )

  const FailedSelection = { body: Type.Object({ ...Csrf, ids: Type.Optional(IdList), q: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false }) }
  /** Back to /failed, keeping the search and saying what happened. */
  const backToFailed = (q: string | undefined, done: string) => `/failed?${new URLSearchParams({ ...(q ? { q } : {}), done })}`

  app.post('/failed/retry', { schema: FailedSelection }, async (request, reply) => {
    const body = request.body as { ids?: string | string[]; q?: string }
    // The ids are the selection as the page showed it at the click: later failures are not swept in.
    const result = await admin.retryFailed(asList(body.ids))
    const already = result.notFound.length ? `; ${result.notFound.length} were already retried or deleted` : ''
    return done(request, reply, backToFailed(body.q, `Retried ${result.retried.length}${already}`), result)
  })

  app.post('/failed/delete', { schema: FailedSelection }, async (request, reply) => {
    const body = request.body as { ids?: string | string[]; q?: string }
    const result = await admin.deleteFailed(asList(body.ids))
    return done(request, reply, backToFailed(body.q, `Deleted ${result.deleted.length}`), result)
  })
}
