import { Type, type Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { services, sideChoices, type ComparisonReport, type ComparisonSettings } from '../../../demos/rainy-day/comparison.js'
import { listeningUrl } from '../../listening-url.js'
import type { ShopContext } from '../../shop-context.js'
import { ConflictError, InvalidRequestError } from '../../errors.js'
import { renderFragment } from '../../render.js'

/** The largest campaign the page runs: bounded, it runs on this machine, on loopback. */
export const rainyDayLimits = { maxOrders: 1_000, maxClients: 100 }
export const rainyDayDefaults = { orders: 200, clients: 20, stop: 'none', sides: 'both' } as const

export const StopChoice = Type.Union([Type.Literal('none'), ...services.map((service) => Type.Literal(service))])
export const SidesChoice = Type.Union(sideChoices.map((side) => Type.Literal(side)))
export const RunBody = Type.Object(
  {
    orders: Type.Optional(Type.Integer({ minimum: 1, maximum: rainyDayLimits.maxOrders })),
    clients: Type.Optional(Type.Integer({ minimum: 1, maximum: rainyDayLimits.maxClients })),
    stop: Type.Optional(StopChoice),
    sides: Type.Optional(SidesChoice),
  },
  { additionalProperties: false },
)

/** What a person asked for, in range (the form's fields are text: checked here for both ways in), with the defaults filled in. */
export function settingsOf(body: Static<typeof RunBody>): ComparisonSettings {
  const stop = body.stop ?? rainyDayDefaults.stop
  const within = (field: 'orders' | 'clients', value: number | undefined, max: number) => {
    if (value !== undefined && !(Number.isInteger(value) && value >= 1 && value <= max)) throw new InvalidRequestError(`body/${field} must be between 1 and ${max}`)
  }
  within('orders', body.orders, rainyDayLimits.maxOrders)
  within('clients', body.clients, rainyDayLimits.maxClients)
  return {
    orders: body.orders ?? rainyDayDefaults.orders,
    clients: body.clients ?? rainyDayDefaults.clients,
    stop: stop === 'none' ? null : stop,
    sides: body.sides ?? rainyDayDefaults.sides,
  }
}

/** Starts a run of the rainy day, or says why not (one at a time; the console must be listening). */
export function startRainyDay(app: FastifyInstance, settings: ComparisonSettings): ComparisonReport {
  const { comparison } = app.shop
  if (comparison.running) throw new ConflictError('A rainy-day run is in progress; wait for it to finish.')
  if (listeningUrl(app) === undefined) throw new ConflictError('The rainy day sends its campaign over HTTP: the console must listen on a port.')
  return comparison.start(settings)
}

/**
 * The page's and the API's view of the rainy day: the latest run's figures (and, for the page's script,
 * the same drawn by the page's own template, views/rainy-day-run.eta) and what the chain does.
 */
export function rainyDayState(shop: ShopContext) {
  const latest = shop.comparison.latest() ?? null
  return { running: shop.comparison.running, latest, html: renderFragment('rainy-day-run', { run: latest }), chain: shop.rainyDayChain, limits: rainyDayLimits, defaults: rainyDayDefaults }
}

/** GET /api/rainy-day: the latest run, live while it runs. POST /api/rainy-day/runs: start one (202). */
export async function rainyDayRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get('/rainy-day', async () => rainyDayState(app.shop))
  app.post('/rainy-day/runs', { schema: { body: RunBody } }, async (request, reply) => {
    reply.code(202)
    return startRainyDay(app, settingsOf(request.body))
  })
}
